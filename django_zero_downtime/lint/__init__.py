"""The migration checker: rules over operations and the SQL they produce."""
