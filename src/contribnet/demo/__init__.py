"""The demo network: a realistic NIO/ONVO collaboration network and its scenarios."""
