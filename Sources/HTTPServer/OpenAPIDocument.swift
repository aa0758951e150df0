/// The OpenAPI 3.1 description of the public API, served at `/openapi.json`. Kept beside the controllers and
/// checked by a test against the routes the router actually has.
enum OpenAPIDocument {
    /// The fields of a create request, shared by the JSON and the form schemas.
    static let createVideoProperties = #"""
{
          "prompt": {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": "^[^\\u0000]*\\S[^\\u0000]*$", "description": "At most 2000 characters and limits.max_prompt_bytes (16 KiB) of UTF-8; not blank; no NUL."},
          "model": {"type": "string", "enum": ["tiny-t2v", "tiny-i2v", "wan2.1-t2v-1.3b", "wan2.1-t2v-14b", "wan2.2-i2v-a14b"], "default": "tiny-t2v"},
          "size": {"type": "string", "pattern": "^[0-9]+x[0-9]+$", "description": "WIDTHxHEIGHT; one of the model's sizes."},
          "seconds": {"type": ["string", "number"], "description": "Duration; rounded to 4k+1 frames at the model's fps."},
          "resolution": {"type": "string", "enum": ["tiny", "480p", "720p"]},
          "aspect_ratio": {"type": "string", "enum": ["16:9", "9:16", "1:1", "4:3", "3:4"]},
          "width": {"type": "integer"}, "height": {"type": "integer"},
          "num_frames": {"type": "integer", "minimum": 1, "description": "4k+1, from 1 to the model's maximum (1: a still)."},
          "frames": {"type": "integer", "minimum": 1, "description": "Another name for num_frames (send one of them)."},
          "fps": {"type": "integer", "minimum": 1, "maximum": 60},
          "steps": {"type": "integer", "minimum": 1, "maximum": 4},
          "num_inference_steps": {"type": "integer", "minimum": 1, "maximum": 4, "description": "vLLM-Omni's name for steps."},
          "seed": {"type": "integer", "minimum": 0, "maximum": 4294967295},
          "sampler": {"type": "string", "enum": ["sde", "ode"], "default": "sde"},
          "sigma_max": {"type": "number", "minimum": 1, "maximum": 5000},
          "boundary": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "description": "Two-expert (I2V) models only."},
          "attention": {"type": "string", "enum": ["original", "sla", "sagesla"], "default": "original"},
          "quant_linear": {"type": "boolean"},
          "adaptive_resolution": {"type": "boolean", "description": "I2V: follow the image's aspect ratio at the same area."},
          "negative_prompt": {"type": "string", "description": "Accepted for compatibility; distilled students use no CFG."},
          "priority": {"type": "string", "enum": ["interactive", "standard", "batch"], "default": "standard"},
          "deadline_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400}
        }
"""#

    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "TurboServe video API",
    "version": "0.1.0",
    "description": "OpenAI Videos API compatible endpoints with TurboDiffusion's knobs as extra fields. Errors use OpenAI's shape: {\"error\": {\"message\", \"type\", \"param\", \"code\"}}."
  },
  "security": [{}, {"apiKey": []}],
  "paths": {
    "/v1/videos": {
      "post": {
        "operationId": "createVideo",
        "summary": "Queue a video generation job (JSON or multipart/form-data with input_reference for image-to-video).",
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"$ref": "#/components/requestBodies/CreateVideo"},
        "responses": {
          "200": {"description": "The queued job.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Video"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "408": {"$ref": "#/components/responses/Error"},
          "409": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"},
          "429": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/CreateUnavailable"}
        }
      },
      "get": {
        "operationId": "listVideos",
        "summary": "List videos, newest first by default, with cursor pagination.",
        "parameters": [
          {"name": "after", "in": "query", "schema": {"type": "string"}, "description": "Id of the last video of the previous page (404 not_found when no such video is visible to the caller); empty: the first page."},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
          {"name": "order", "in": "query", "schema": {"type": "string", "enum": ["asc", "desc"], "default": "desc"}}
        ],
        "responses": {
          "200": {"description": "A page of videos.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VideoList"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "429": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/videos/sync": {
      "post": {
        "operationId": "createVideoSync",
        "summary": "vLLM-Omni compatible: the same request as createVideo, answered with the finished MP4 once the job ends (bounded by limits.sync_timeout_seconds). Every answer about a created job carries its id in X-Video-Id.",
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"$ref": "#/components/requestBodies/CreateVideo"},
        "responses": {
          "200": {"description": "The MP4 (H.264, yuv420p).", "headers": {"X-Video-Id": {"$ref": "#/components/headers/VideoID"}}, "content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "408": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"},
          "503": {"$ref": "#/components/responses/CreateUnavailable"},
          "409": {"description": "cancelled: the job was deleted while the request waited.", "headers": {"X-Video-Id": {"$ref": "#/components/headers/VideoID"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "429": {"$ref": "#/components/responses/Error"},
          "500": {"description": "The job failed: the error carries the job's own code (e.g. engine_out_of_memory).", "headers": {"X-Video-Id": {"$ref": "#/components/headers/VideoID"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "202": {"description": "The job did not finish within limits.sync_timeout_seconds and keeps running: the video object; poll it at Location (its id is also in X-Video-Id).", "headers": {"X-Video-Id": {"$ref": "#/components/headers/VideoID"}, "Location": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Video"}}}}
        }
      }
    },
    "/v1/videos/{video_id}": {
      "parameters": [{"$ref": "#/components/parameters/VideoID"}],
      "get": {
        "operationId": "retrieveVideo",
        "summary": "The job's status, progress (0-100), stage, step and parameters.",
        "responses": {"200": {"description": "The video.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Video"}}}}, "404": {"$ref": "#/components/responses/Error"}}
      },
      "delete": {
        "operationId": "deleteVideo",
        "summary": "Delete the video: an unfinished job is cancelled first (its engine state is freed at the next step boundary); its files are removed and the video answers 404 everywhere afterwards.",
        "responses": {"200": {"description": "Deleted.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VideoDeleted"}}}}, "404": {"$ref": "#/components/responses/Error"}}
      }
    },
    "/v1/videos/{video_id}/content": {
      "parameters": [{"$ref": "#/components/parameters/VideoID"}],
      "get": {
        "operationId": "downloadVideoContent",
        "summary": "The MP4 (H.264, yuv420p) or its thumbnail; supports a single HTTP Range.",
        "parameters": [
          {"name": "variant", "in": "query", "schema": {"type": "string", "enum": ["video", "thumbnail", ""], "default": "video"}, "description": "Empty means video."},
          {"name": "Range", "in": "header", "schema": {"type": "string", "example": "bytes=0-1023"}}
        ],
        "responses": {
          "200": {"description": "The file.", "content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}, "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
          "206": {"description": "The requested range."},
          "400": {"$ref": "#/components/responses/Error"},
          "404": {"$ref": "#/components/responses/Error"},
          "409": {"$ref": "#/components/responses/Error"},
          "416": {"description": "The range is outside the file."}
        }
      }
    },
    "/v1/videos/{video_id}/events": {
      "parameters": [{"$ref": "#/components/parameters/VideoID"}],
      "get": {
        "operationId": "streamVideoEvents",
        "summary": "Server-Sent Events: `progress` (the video object) at once and after every change, then `done`.",
        "responses": {"200": {"description": "An event stream (text/event-stream, not JSON): `event: progress` lines whose `data:` is a Video object, then one `event: done` whose data is {\"id\", \"status\"}. While nothing changes, a `: keep-alive` comment every limits.events_heartbeat_seconds (not an event). On server shutdown the stream ends without `done`: read the video again or reconnect.", "content": {"text/event-stream": {"schema": {"type": "object", "required": ["event", "data"], "properties": {"event": {"type": "string", "enum": ["progress", "done"]}, "data": {"type": "string", "contentMediaType": "application/json", "description": "progress: a Video object; done: {id, status}."}}, "description": "One Server-Sent Event."}}}}, "404": {"$ref": "#/components/responses/Error"}}
      }
    },
    "/v1/models": {
      "get": {
        "operationId": "listModels",
        "summary": "The models this server accepts (OpenAI list), each with its task, sizes per resolution and aspect ratio, defaults and which knobs apply.",
        "responses": {"200": {"description": "The models.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ModelList"}}}}}
      }
    },
    "/v1/operations": {
      "get": {
        "operationId": "operations",
        "summary": "Operations view: queue depth by class, unfinished jobs in estimated service order (queue position, ETA), each worker's engine (running batch, resident models, recent plan intervals), recent failures.",
        "security": [{}, {"operatorKey": []}],
        "responses": {"200": {"description": "A snapshot.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Operations"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}
      }
    },
    "/v1/operations/engines/restart": {
      "post": {
        "operationId": "restartEngines",
        "summary": "Restarts this process's engines (a stalled page's way out): each engine process is killed and started again; the jobs it held go back to the queue without losing an attempt.",
        "security": [{}, {"operatorKey": []}],
        "responses": {"200": {"description": "How many engines were restarted.", "content": {"application/json": {"schema": {"type": "object", "required": ["object", "engines"], "properties": {"object": {"type": "string", "const": "engine.restart"}, "engines": {"type": "integer", "minimum": 0}}}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}
      }
    },
    "/": {"get": {"operationId": "webUI", "summary": "The web UI (generate, progress, results, gallery, operations).", "responses": {"200": {"description": "index.html", "content": {"text/html": {"schema": {"type": "string"}}}}, "404": {"$ref": "#/components/responses/Error"}}}},
    "/ui/{file}": {
      "parameters": [{"name": "file", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]*$"}}],
      "get": {"operationId": "webUIFile", "summary": "A static file of the web UI (app.js, app.css, ...); plain names inside the UI folder only.", "responses": {"200": {"description": "The file."}, "404": {"$ref": "#/components/responses/Error"}}}
    },
    "/healthz": {"get": {"operationId": "health", "summary": "The process is up.", "responses": {"200": {"description": "ok"}}}},
    "/readyz": {"get": {"operationId": "ready", "summary": "The engines finished their handshake and warm-up and, on a shared (PostgreSQL) store, the store answers; a 503 not_ready names which is missing.", "responses": {"200": {"description": "ready"}, "503": {"$ref": "#/components/responses/Error"}}}},
    "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus text exposition (prefix turboserve_). Needs an operator key when any key is configured, unless auth.metrics_open.", "security": [{}, {"operatorKey": []}], "responses": {"200": {"description": "Metrics.", "content": {"text/plain": {"schema": {"type": "string"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
    "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document.", "responses": {"200": {"description": "OpenAPI 3.1 JSON."}}}}
  },
  "components": {
    "parameters": {
      "VideoID": {"name": "video_id", "in": "path", "required": true, "schema": {"type": "string"}},
      "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}, "description": "1-255 visible ASCII characters. Replays of the identical request (uploads compared by content) return the first job; a different request under the same key is 409."}
    },
    "securitySchemes": {
      "apiKey": {"type": "http", "scheme": "bearer", "description": "Required on /v1/* when the server has auth.api_keys; each key acts for one tenant and sees only its jobs (401 invalid_api_key otherwise)."},
      "operatorKey": {"type": "http", "scheme": "bearer", "description": "An operator key (auth.operator_keys) for /v1/operations and /metrics; a tenant key is 403 forbidden there."}
    },
    "requestBodies": {
      "CreateVideo": {
        "required": true,
        "content": {
          "application/json": {"schema": {"$ref": "#/components/schemas/CreateVideo"}},
          "multipart/form-data": {"schema": {"allOf": [{"$ref": "#/components/schemas/CreateVideoForm"}, {"type": "object", "properties": {"input_reference": {"type": "string", "format": "binary", "description": "PNG, JPEG or WebP first frame (image-to-video models), at most 16 MiB; without model, the default image-to-video model runs."}}}]}},
          "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/CreateVideoForm"}}
        }
      }
    },
    "headers": {
      "VideoID": {"description": "The id of the job this answer is about.", "schema": {"type": "string"}}
    },
    "responses": {
      "Error": {"description": "An OpenAI-shaped error naming the offending field in `param`.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "CreateUnavailable": {"description": "not_ready, disk_full or server_busy (with Retry-After). When the job store stopped answering after the create reached it, the video may still be stored: the message and X-Video-Id name it (retry under the same Idempotency-Key).", "headers": {"X-Video-Id": {"$ref": "#/components/headers/VideoID"}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    },
    "schemas": {
      "CreateVideo": {"type": "object", "required": ["prompt"], "additionalProperties": false, "description": "A JSON body: an unknown field is 400 unknown_field.", "properties": \#(createVideoProperties)},
      "CreateVideoForm": {"type": "object", "required": ["prompt"], "description": "A form body (multipart or urlencoded): unknown fields are ignored and listed in the answer's adjustments.", "properties": \#(createVideoProperties)},
      "Video": {
        "type": "object",
        "required": ["id", "object", "model", "status", "progress", "created_at"],
        "properties": {
          "id": {"type": "string"}, "object": {"const": "video"}, "model": {"type": "string"},
          "status": {"type": "string", "enum": ["queued", "in_progress", "completed", "failed"]},
          "progress": {"type": "integer", "minimum": 0, "maximum": 100},
          "created_at": {"type": "integer"}, "completed_at": {"type": ["integer", "null"]}, "expires_at": {"type": ["integer", "null"]},
          "size": {"type": "string"}, "seconds": {"type": "string"}, "quality": {"type": "string"},
          "error": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}]},
          "stage": {"type": "string", "enum": ["queued", "admitted", "denoising", "decoding", "muxing", "succeeded", "failed", "cancelled"]},
          "step": {"type": "integer"}, "steps": {"type": "integer"}, "num_frames": {"type": "integer"}, "fps": {"type": "integer"},
          "seed": {"type": "integer"}, "sampler": {"type": "string"}, "sigma_max": {"type": "number"}, "priority": {"type": "string"}, "prompt": {"type": "string"},
          "stage_durations": {"type": "object", "additionalProperties": {"type": "number"}, "description": "Retrieve only: seconds per stage (admit, denoise, decode, mux, retried) from the job's event log."},
          "adjustments": {"type": "array", "items": {"type": "string"}, "description": "Create only, when a form request was adjusted: ignored fields, accepted-but-unused ones."}
        }
      },
      "VideoList": {
        "type": "object",
        "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": {"$ref": "#/components/schemas/Video"}}, "first_id": {"type": ["string", "null"]}, "last_id": {"type": ["string", "null"]}, "has_more": {"type": "boolean"}}
      },
      "ModelList": {"type": "object", "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": {"$ref": "#/components/schemas/Model"}}}},
      "Model": {
        "type": "object",
        "required": ["id", "object", "task"],
        "properties": {
          "id": {"type": "string"}, "object": {"const": "model"}, "created": {"type": "integer"}, "owned_by": {"type": "string"},
          "task": {"type": "string", "enum": ["t2v", "i2v"]}, "experts": {"type": "array", "items": {"type": "string"}}, "tiny": {"type": "boolean"}, "is_default": {"type": "boolean"},
          "resolutions": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "sizes": {"type": "object", "additionalProperties": {"type": "string"}}}}},
          "default_resolution": {"type": "string"}, "default_aspect_ratio": {"type": "string"}, "default_frames": {"type": "integer"}, "max_frames": {"type": "integer"}, "fps": {"type": "integer"},
          "steps": {"type": "array", "items": {"type": "integer"}}, "default_steps": {"type": "integer"}, "samplers": {"type": "array", "items": {"type": "string"}}, "default_sampler": {"type": "string"},
          "default_sigma_max": {"type": "number"}, "default_boundary": {"type": ["number", "null"]}, "attention": {"type": "array", "items": {"type": "string"}},
          "supports_input_reference": {"type": "boolean"}, "supports_boundary": {"type": "boolean"}, "supports_adaptive_resolution": {"type": "boolean"}, "supports_quant_linear": {"type": "boolean"}
        }
      },
      "Operations": {
        "type": "object",
        "properties": {
          "object": {"const": "operations"}, "generated_at": {"type": "number"}, "window": {"type": "integer"}, "mean_run_seconds": {"type": ["number", "null"]},
          "queue_depth": {"type": "object", "additionalProperties": {"type": "integer"}},
          "unfinished": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "model": {"type": "string"}, "priority": {"type": "string"}, "status": {"type": "string"}, "stage": {"type": "string"}, "progress": {"type": "integer"}, "created_at": {"type": "integer"}, "queue_position": {"type": "integer"}, "eta_seconds": {"type": ["number", "null"]}, "prompt": {"type": "string", "description": "The first 120 characters of the prompt."}}}},
          "workers": {"type": "array", "items": {"type": "object", "properties": {"worker": {"type": "string"}, "running_stage": {"type": ["string", "null"]}, "running_jobs": {"type": "array", "items": {"type": "string"}}, "held_jobs": {"type": "array", "items": {"type": "string"}}, "resident_models": {"type": "array", "items": {"type": "string"}}, "busy_ratio": {"type": "number"}, "plans_executed": {"type": "integer"}, "timeline": {"type": "array", "items": {"type": "object", "properties": {"stage": {"type": "string"}, "started_at": {"type": "number"}, "seconds": {"type": "number"}, "jobs": {"type": "integer"}, "ok": {"type": "boolean"}}}}}}},
          "recent_failures": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "model": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}, "completed_at": {"type": ["integer", "null"]}}}}
        }
      },
      "VideoDeleted": {"type": "object", "properties": {"id": {"type": "string"}, "object": {"const": "video.deleted"}, "deleted": {"type": "boolean"}}},
      "Error": {
        "type": "object",
        "properties": {"error": {"type": "object", "properties": {"message": {"type": "string"}, "type": {"type": "string"}, "param": {"type": ["string", "null"]}, "code": {"type": "string"}}}}
      }
    }
  }
}
"""#
}
