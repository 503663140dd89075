# One image for every process of the hotline (deploy/kubernetes, docs/production.md).
#
#   docker build -t hotline:$(git rev-parse --short HEAD) .
#
# The image holds the code, the pinned dependencies of requirements.lock, the
# spaCy «ru» pipeline built by hotline.nlu.spacy_pipeline (no download) and the
# trained Rasa model. The model is trained here, in the `build` stage, by the
# same fingerprinted command as `make train`: the image is then the only
# artifact of a release (code and model cannot drift apart, a new pod starts
# without fetching anything, and rolling back the image rolls back the
# model). Training takes 5-7 minutes of two cores; Docker's layer cache
# reuses the stage while nothing is copied in anew.
#
# There is no ENTRYPOINT wrapper: each process is `python -m <module>`, and
# the Kubernetes manifests spell the command of each one (deploy/kubernetes/
# base/*.yaml, components/*):
#   Rasa server             python -m rasa run ... (deploy/endpoints.prod.yml + credentials.yml)
#   action server           python -m hotline.action_server
#   operator console        python -m handoff.console
#   web widget files        python -m connectors.webchat.serve
#   Telegram long polling   python -m connectors.telegram.polling
#   VK long poll            the Rasa server with VK_MODE=longpoll
#   phone (AudioSocket)     python -m voice.audiosocket (Vosk model from a volume)
#   migrations, retention   python -m hotline.status init, python -m hotline.ops.retention purge
# The default command is the Rasa server.
#
# Nothing is downloaded at run time; the Russian Vosk model for the phone is
# mounted as a volume (VOICE_MODELS_DIR), since its licence and size keep it
# out of the image and it cannot be fetched during the build here.

FROM python:3.10.13-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    RASA_TELEMETRY_ENABLED=false \
    PATH=/opt/venv/bin:$PATH
WORKDIR /app

# --- dependencies, spaCy pipeline and model ---------------------------------------
FROM base AS build
RUN python -m venv /opt/venv \
 && /opt/venv/bin/python -m pip install --no-cache-dir pip==24.0
# The lock first: the slow install is cached until requirements.lock changes.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# Editable, like scripts/setup.sh: the code stays in /app, where it finds
# deploy/, models/ and var/ beside itself, and the spaCy factory entry point
# of pyproject.toml is registered.
RUN pip install --no-cache-dir --no-deps -e . \
 && python -m hotline.nlu.spacy_pipeline models/spacy_ru \
 && python -m hotline.nlu.training \
 && rm -rf .rasa var && mkdir -p var

# --- runtime -------------------------------------------------------------------------
FROM base AS runtime
# espeak-ng: the phone's default voice (voice/tts/espeak.py) runs the program.
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng=1.51+dfsg-10+deb12u2 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 hotline \
 && useradd --system --uid 10001 --gid hotline --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin hotline
COPY --from=build /opt/venv /opt/venv
# Owned by root and read-only for the service user: the pods run with a
# read-only root filesystem; /app/var and /tmp are volumes (deploy/kubernetes).
COPY --from=build /app /app
ENV HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001
EXPOSE 5005
CMD ["python", "-m", "rasa", "run", "--model", "models", \
     "--endpoints", "deploy/endpoints.prod.yml", "--credentials", "credentials.yml", \
     "--logging-config-file", "deploy/logging.prod.yml"]
