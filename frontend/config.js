window.CAT_UPLOAD_CONFIG = { apiBaseUrl: "" };
