"""What ``safemigrate`` does at deploy time."""
