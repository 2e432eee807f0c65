import sys

from storewatch.cli.app import main

sys.exit(main())
