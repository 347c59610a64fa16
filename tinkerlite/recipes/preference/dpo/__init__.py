"""DPO from the command line."""
