"""Ray compositions of the core stages. No algorithm lives here."""
