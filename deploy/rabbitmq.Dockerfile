# RabbitMQ from Debian's packages, for machines that reach no registry; configured like the official rabbitmq:3 image
# (RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS; data in /var/lib/rabbitmq; AMQP on 5672, or RABBITMQ_NODE_PORT).
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends rabbitmq-server \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY rabbitmq-entrypoint.sh /usr/local/bin/
ENV PATH=/usr/lib/rabbitmq/bin:$PATH HOME=/var/lib/rabbitmq RABBITMQ_CONFIG_FILE=/var/lib/rabbitmq/rabbitmq.conf
USER rabbitmq
VOLUME /var/lib/rabbitmq
EXPOSE 5672
HEALTHCHECK --interval=3s --timeout=10s --retries=30 CMD ["rabbitmq-diagnostics", "-q", "check_port_connectivity"]
ENTRYPOINT ["rabbitmq-entrypoint.sh"]
