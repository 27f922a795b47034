import io

from PIL import Image

# Modes PNG stores as they are; anything else (CMYK, YCbCr, palette...) becomes RGBA first.
_PNG_MODES = {"1", "L", "LA", "I", "RGB", "RGBA"}


def image_resize(image_data: bytes, width: int = 800, height: int = 600) -> bytes:
    """Resize an image to exactly width x height pixels and return it as PNG."""
    if width < 1 or height < 1:
        raise ValueError(f"width and height must be positive, got {width}x{height}")
    try:
        with Image.open(io.BytesIO(image_data)) as image:
            source = image if image.mode in _PNG_MODES else image.convert("RGBA")
            resized = source.resize((width, height), Image.Resampling.LANCZOS)
    except OSError as exc:  # Pillow's "cannot identify image file" and truncated data
        raise ValueError("image_data is not an image Pillow can read") from exc
    out = io.BytesIO()
    resized.save(out, format="PNG")
    return out.getvalue()
