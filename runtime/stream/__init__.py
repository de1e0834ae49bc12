"""The stream engine, Kafka Streams' model in Python over aiokafka: one task per partition keeps
its aggregates in memory; each batch commits state (a compacted changelog), events, dead letters
and offsets in one transaction. The steps a record takes are declared once (`processor.STEPS`)."""
