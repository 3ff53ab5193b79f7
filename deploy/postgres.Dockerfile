# PostgreSQL 15 from Debian's packages, for machines that reach no registry; configured like the official postgres:15
# image (POSTGRES_USER, POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, POSTGRES_DB; data in /var/lib/postgresql/data;
# the command `postgres -c ...`), so docker-compose.yml runs either unchanged.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
VOLUME /var/lib/postgresql/data
# Fast shutdown (as the official image): SIGTERM is a smart shutdown, which waits for every client to leave.
STOPSIGNAL SIGINT
EXPOSE 5432
HEALTHCHECK --interval=2s --timeout=5s --retries=30 CMD ["sh", "-c", "pg_isready -h 127.0.0.1 -p \"${PGPORT:-5432}\" -U \"${POSTGRES_USER:-postgres}\""]
ENTRYPOINT ["postgres-entrypoint.sh"]
CMD ["postgres"]
