"""The public JSON API of the people app: v1 (``last_name``) and v2 (``surname``)."""
