"""Generated from proto/ by libs/idl/generate.py. Do not edit."""
