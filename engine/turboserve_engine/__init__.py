"""TurboServe's engine: a dumb executor of Wan diffusion steps, driven over NDJSON by the Swift control plane.

See docs/engine-protocol.md for the wire contract. Tensors never leave this process.
"""

ENGINE_VERSION = "0.1.0"
PROTOCOL_VERSION = 1
