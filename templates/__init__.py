"""Built-in apipack templates (text only; installed as apipack_templates)."""
