"""One rule per file. ``registry`` lists them; each rule's ``Config`` is its section in the site file's ``rules``."""
