# sqlcipher3 mirrors the standard library's sqlite3 DB-API module; type it as such.
from sqlite3 import Connection as Connection
from sqlite3 import Cursor as Cursor
from sqlite3 import DatabaseError as DatabaseError
from sqlite3 import IntegrityError as IntegrityError
from sqlite3 import OperationalError as OperationalError
from sqlite3 import complete_statement as complete_statement
from sqlite3 import connect as connect
from sqlite3 import sqlite_version as sqlite_version
