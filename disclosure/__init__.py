"""disclosure: a workflow engine for government-information disclosure requests (政府信息依申请公开)."""

__version__ = "0.1.0"
