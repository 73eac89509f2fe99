"""Upload locations: signed PUT URLs bound to the content's MD5."""

from skyloom_admin.dataproxy.manager import UploadLocation, UploadManager, upload_key
from skyloom_admin.dataproxy.rpcs import DataProxyRpcs

__all__ = ["DataProxyRpcs", "UploadLocation", "UploadManager", "upload_key"]
