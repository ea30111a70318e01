"""escd's topic names in the benchmark clients: esc.<kind>[.<model>].<source> (daemon/topic.h)."""


def stream(topic, message):
    """The topic without escd's source name, which is its last part and the message's `source`."""
    source = message.get("source") if isinstance(message, dict) else None
    if source and topic.endswith("." + source):
        return topic[: -len(source) - 1]
    return topic
