print("flight-sql-server: not yet built")
