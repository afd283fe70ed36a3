"""Web pages of the clients app, one module per screen group."""
