"""Skyloom plugin runners (Spark, MPI, Snowflake, AWS Batch) behind one PluginService contract."""
