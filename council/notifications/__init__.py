"""In-app notifications (the inbox) and outgoing email through a database outbox."""
