"""Reading and writing track and detection files."""
