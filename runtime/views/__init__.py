"""The query model: documents and history written asynchronously from committed topics by each
service's view writer, the only writer of its database."""
