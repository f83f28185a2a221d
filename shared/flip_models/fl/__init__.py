"""The FL door: messages from the FL servers over SQS, and scheduled work on their runs."""
