# One image for the four services (and the operator's CLI): small, pinned, non-root.
FROM python:3.11.10-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY contracts contracts
COPY runtime runtime
COPY services services
COPY ops ops
COPY sim sim
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11.10-slim-bookworm
RUN useradd --create-home --uid 10001 aftersale
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER aftersale
WORKDIR /home/aftersale
ENV PYTHONUNBUFFERED=1 AFTERSALE_HTTP_HOST=0.0.0.0
# The service is chosen by the command, e.g. `python -m services.refund`.
CMD ["python", "-m", "services.refund"]
