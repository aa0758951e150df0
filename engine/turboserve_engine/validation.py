"""Per-job admission validation (docs/engine-protocol.md, "admit"): every job of an `admit` is checked on its own,
before anything is batched or changed. `validate_batch` returns the checked jobs, or raises one error naming exactly
the invalid ones, so the caller admits all of a batch or none of it.

Guarantees:
- Each job is checked alone; one job's problem never hides or causes another's.
- An I2V image is opened lazily, its format checked against `IMAGE_FORMATS` and its declared size against
  `MAX_IMAGE_PIXELS` from the header before any pixel is decoded; then it is verified (PNG chunk CRCs, truncation)
  and decoded in full. Pillow's decompression-bomb error and warning are turned into this job's problem.
- Messages say what to change and never contain a server file path (the caller's own path included).
- Problems are coded `invalid_image` (every invalid job's problem is its image), `model_missing` or
  `kernel_unavailable` (every invalid job has that one problem), else `bad_input`; all are non-retryable.
"""

from __future__ import annotations

import importlib.util
import re
import warnings
from dataclasses import dataclass

from .errors import EngineError

KERNEL_MODULES = {"sla": "sparse_linear_attention", "sagesla": "sageattention", "quant_linear": "turbo_quant_linear"}
IMAGE_FORMATS = {"PNG", "JPEG", "WEBP", "PPM"}
MAX_IMAGE_PIXELS = 40_000_000  # about 8K × 5K; the model never needs more
MAX_SIDE = 4096
MAX_FRAMES = 1025
MAX_PROMPT_CHARACTERS = 20_000  # the control plane allows 2 000; the tokenizer keeps 512 tokens


def kernel_available(name: str) -> bool:
    return importlib.util.find_spec(KERNEL_MODULES[name]) is not None


@dataclass
class Problem(Exception):
    """One job's reason to be refused: `code` and a message saying what to change."""

    code: str
    message: str


def validate_batch(specs: list, admitted: set[str], manifests: dict[str, dict]) -> list[tuple[dict, object]]:
    """(spec, decoded PIL image or None) per job, in order; raises one `EngineError` naming every invalid job.
    A job without a usable `job_id` cannot be named: the request as a whole is then `bad_request` (no `jobs`)."""
    ids = []
    for index, spec in enumerate(specs):
        job_id = spec.get("job_id") if isinstance(spec, dict) else None
        if not isinstance(job_id, str) or not job_id:
            raise EngineError("bad_request", f"jobs[{index}] must be an object with a non-empty string 'job_id'")
        ids.append(job_id)
    problems: dict[str, Problem] = {}
    checked = []
    for job_id, spec in zip(ids, specs):
        try:
            if ids.count(job_id) > 1:
                raise Problem("bad_input", "the same job_id appears twice in one admit; send each job once")
            if job_id in admitted:
                raise Problem("bad_input", "the job is already admitted; release it first or use a new job_id")
            checked.append((spec, _validate_job(spec, manifests)))
        except Problem as problem:
            problems.setdefault(job_id, problem)
    if problems:
        raise _refusal(problems, len(specs))
    return checked


def _refusal(problems: dict[str, Problem], batch: int) -> EngineError:
    codes = {p.code for p in problems.values()}
    code = codes.pop() if len(codes) == 1 else "bad_input"
    text = "; ".join(f"job '{job}': {p.message}" for job, p in problems.items())
    message = f"{len(problems)} of {batch} jobs cannot be admitted (none of this admit was): {text}"
    return EngineError(code, message, list(problems), {job: p.message for job, p in problems.items()})


def _validate_job(spec: dict, manifests: dict[str, dict]):
    model = _field(spec, "model", str)
    if model not in manifests:
        raise Problem("model_missing", f"model '{model}' is not installed on this engine; installed: {', '.join(sorted(manifests))}")
    width, height, frames, steps = (_field(spec, k, int) for k in ("width", "height", "frames", "steps"))
    if width <= 0 or height <= 0 or width % 16 or height % 16 or width > MAX_SIDE or height > MAX_SIDE:
        raise Problem("bad_input", f"width and height must be multiples of 16 from 16 to {MAX_SIDE}; got {width}x{height}")
    if frames < 1 or (frames - 1) % 4 or frames > MAX_FRAMES:
        raise Problem("bad_input", f"frames must be 4k+1 from 1 to {MAX_FRAMES}; got {frames}")
    if steps not in (1, 2, 3, 4):
        raise Problem("bad_input", f"steps must be 1 to 4; got {steps}")
    _field(spec, "seed", int)
    if spec.get("sampler", "sde") not in ("sde", "ode"):
        raise Problem("bad_input", f"sampler must be 'sde' or 'ode'; got {spec.get('sampler')!r}")
    fps = spec.get("fps", 16)
    if not isinstance(fps, int) or isinstance(fps, bool) or not 1 <= fps <= 120:
        raise Problem("bad_input", f"fps must be an integer from 1 to 120; got {fps!r}")
    for key, low, high in (("sigma_max", 1.0, 1e6), ("boundary", 0.0, 1.0)):
        value = spec.get(key)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high):
            raise Problem("bad_input", f"{key} must be a number from {low:g} to {high:g}; got {value!r}")
    prompt = _field(spec, "prompt", str)
    if not prompt.strip():
        raise Problem("bad_input", "prompt must not be empty; describe the video")
    if len(prompt) > MAX_PROMPT_CHARACTERS or "\x00" in prompt:
        raise Problem("bad_input", f"prompt must be at most {MAX_PROMPT_CHARACTERS} characters without NUL; got {len(prompt)}")
    attention = spec.get("attention", "original")
    if attention not in ("original", "sla", "sagesla"):
        raise Problem("bad_input", f"attention must be one of original, sla, sagesla; got {attention!r}")
    for kernel in [attention] + (["quant_linear"] if spec.get("quant_linear") else []):
        if kernel != "original" and not kernel_available(kernel):
            raise Problem("kernel_unavailable", f"{kernel} needs the '{KERNEL_MODULES[kernel]}' GPU kernels, which are not installed on this engine; use attention 'original'" + (" and quant_linear false" if kernel == "quant_linear" else ""))
    if manifests[model]["task"] != "i2v":
        return None
    path = spec.get("image_path")
    if not isinstance(path, str) or not path:
        raise Problem("bad_input", f"model '{model}' is image-to-video: send an image (image_path)")
    return load_image(path)


def _field(spec: dict, key: str, kind: type):
    if key not in spec or spec[key] is None:
        raise Problem("bad_input", f"'{key}' is required")
    value = spec[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise Problem("bad_input", f"'{key}' must be {'an integer' if kind is int else 'a string'}; got {type(value).__name__}")
    return value


def load_image(path: str):
    """Opens, checks and fully decodes one image; raises `Problem("invalid_image", ...)` without the path."""
    from PIL import Image, ImageFile, UnidentifiedImageError

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS  # Pillow's own check at open: warning above, error above twice
    bomb = (Image.DecompressionBombError, Image.DecompressionBombWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as probe:  # reads the header only
                _check_header(probe)
                probe.verify()  # structure and checksums (PNG CRCs, a missing end), still no pixels
            image = Image.open(path)
            image.load()  # decodes every pixel
            if image.mode not in ("RGB", "RGBA", "L", "LA", "P", "I", "I;16", "CMYK", "YCbCr"):
                raise Problem("invalid_image", f"the image's pixel mode {image.mode} is not supported; send an 8-bit RGB or greyscale image")
            return image
        except Problem:
            raise
        except FileNotFoundError:
            raise Problem("invalid_image", "the image file is missing on the engine's host (it may have been removed); upload it again") from None
        except bomb as error:
            declared = re.search(r"\((\d+) pixels\)", str(error))
            size = f"{int(declared.group(1)):,} pixels" if declared else f"more than {MAX_IMAGE_PIXELS:,} pixels"
            raise Problem("invalid_image", f"the image declares {size}, more than the {MAX_IMAGE_PIXELS:,} allowed; send a smaller image (e.g. 1920x1080)") from None
        except UnidentifiedImageError:
            raise Problem("invalid_image", f"the file is not an image this engine reads; send {_formats()}") from None
        except Exception as error:  # noqa: BLE001 — OSError, SyntaxError, struct.error, …: any decoder failure
            reason = "truncated" if "truncat" in str(error).lower() else "corrupt"
            raise Problem("invalid_image", f"the image is {reason} and cannot be decoded ({type(error).__name__}); send the complete file again") from None


def _check_header(image) -> None:
    if image.format not in IMAGE_FORMATS:
        raise Problem("invalid_image", f"images in {image.format} format are not accepted; send {_formats()}")
    width, height = image.size
    if width < 1 or height < 1:
        raise Problem("invalid_image", f"the image declares an empty size {width}x{height}; send a real image")
    if width * height > MAX_IMAGE_PIXELS:
        raise Problem("invalid_image", f"the image declares {width}x{height} pixels ({width * height:,}), more than {MAX_IMAGE_PIXELS:,}; send a smaller image (e.g. 1920x1080)")


def _formats() -> str:
    return "PNG, JPEG, WebP or PPM"
