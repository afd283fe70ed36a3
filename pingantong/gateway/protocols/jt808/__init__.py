"""JT/T 808-2011/2013/2019 terminal protocol (binary, 0x7E framed)."""
