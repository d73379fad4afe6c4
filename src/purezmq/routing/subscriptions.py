"""Prefix subscriptions: which messages a subscriber wants, and which peers want a message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from collections.abc import Set as AbstractSet

from .pipe import Message, Peer, Queued

#: Up to this many topics a subscriber filters with one ``bytes.startswith`` over all of them
#: (in C); with more, one dictionary lookup per distinct topic length is cheaper.
_PREFIXES_LIMIT = 32

_NOBODY: frozenset[Peer] = frozenset()

#: The first byte of a subscription message, and of an unsubscription (RFC 29).
SUBSCRIBE, CANCEL = b"\x01", b"\x00"


def is_subscription(frame: bytes) -> bool:
    """Whether a frame from a subscriber is an (un)subscription: b'\\x01topic' or b'\\x00topic'."""
    return frame[:1] == SUBSCRIBE or frame[:1] == CANCEL


def subscription_frames(message: Message, only_first: bool) -> Iterator[tuple[bytes, bool]]:
    """Each frame of a message of several frames, and whether it is an (un)subscription, as
    libzmq's XPUB reads them and its XSUB sends them: every frame that begins with 0 or 1 is one;
    with ONLY_FIRST_SUBSCRIBE, none after a first frame that is not."""
    process = True
    for i, frame in enumerate(message):
        subscription = process and is_subscription(frame)
        if not i:
            process = not only_first or subscription
        yield frame, subscription


class _LengthIndex:
    """Topic lengths in use, so that matching costs one lookup per distinct length."""

    def __init__(self) -> None:
        self._counts: Counter[int] = Counter()
        self.lengths: list[int] = []

    def add(self, length: int) -> None:
        self._counts[length] += 1
        if self._counts[length] == 1:
            self.lengths = sorted(self._counts)

    def remove(self, length: int) -> None:
        self._counts[length] -= 1
        if not self._counts[length]:
            del self._counts[length]
            self.lengths = sorted(self._counts)


class Subscriptions:
    """A subscriber's own topics, counted: subscribing twice needs two unsubscribes."""

    def __init__(self) -> None:
        self._topics: Counter[bytes] = Counter()
        self._lengths = _LengthIndex()
        # The topics as a tuple for bytes.startswith, while there are few (else None).
        self._prefixes: tuple[bytes, ...] | None = ()

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._topics)

    def __len__(self) -> int:
        """How many distinct topics (TOPICS_COUNT)."""
        return len(self._topics)

    def add(self, topic: bytes) -> bool:
        """Count a subscription; True if the topic is new."""
        self._topics[topic] += 1
        if self._topics[topic] == 1:
            self._lengths.add(len(topic))
            self._topics_changed()
            return True
        return False

    def remove(self, topic: bytes) -> bool:
        """Drop one count; True if that was the last one. Unknown topics are ignored."""
        if topic not in self._topics:
            return False
        self._topics[topic] -= 1
        if self._topics[topic]:
            return False
        del self._topics[topic]
        self._lengths.remove(len(topic))
        self._topics_changed()
        return True

    def _topics_changed(self) -> None:
        topics = self._topics
        self._prefixes = tuple(topics) if len(topics) <= _PREFIXES_LIMIT else None

    def wanted(self, messages: list[Queued]) -> list[Queued]:
        """The messages that match a subscription (``messages`` itself when all do)."""
        if b"" in self._topics:
            return messages  # Subscribed to everything: nothing to look at.
        prefixes = self._prefixes
        if prefixes is None:
            matches = self.matches
            return [m for m in messages if matches(m if isinstance(m, bytes) else m[0])]
        return [m for m in messages if (m if isinstance(m, bytes) else m[0]).startswith(prefixes)]

    def unwanted(self, messages: list[Queued]) -> list[Queued]:
        """The messages that match no subscription (INVERT_MATCHING's ``wanted``)."""
        if b"" in self._topics:
            return []
        prefixes = self._prefixes
        if prefixes is None:
            matches = self.matches
            return [m for m in messages if not matches(m if isinstance(m, bytes) else m[0])]
        return [
            m for m in messages if not (m if isinstance(m, bytes) else m[0]).startswith(prefixes)
        ]

    def mismatches(self, data: bytes) -> bool:
        return not self.matches(data)

    def matches(self, data: bytes) -> bool:
        topics = self._topics
        for length in self._lengths.lengths:
            if length > len(data):
                return False
            if data[:length] in topics:
                return True
        return False


class SubscriberIndex:
    """For a publisher: topic -> the peers subscribed to it (a peer counts once per topic)."""

    def __init__(self) -> None:
        self._peers: dict[bytes, set[Peer]] = {}
        #: The same as tuples, replaced (never changed) when a topic's subscribers change: a
        #: snapshot another thread may go through later (see ``subscribers``).
        self._frozen: dict[bytes, tuple[Peer, ...]] = {}
        self._lengths = _LengthIndex()

    def _refreeze(self, topic: bytes) -> None:
        peers = self._peers.get(topic)
        if peers:
            self._frozen[topic] = tuple(peers)
        else:
            self._frozen.pop(topic, None)

    def __len__(self) -> int:
        """How many distinct topics have a subscriber (TOPICS_COUNT)."""
        return len(self._peers)

    def has(self, topic: bytes, peer: Peer) -> bool:
        return peer in self._peers.get(topic, _NOBODY)

    def add(self, topic: bytes, peer: Peer) -> bool:
        """True if nobody was subscribed to this topic before."""
        peers = self._peers.get(topic)
        first = peers is None
        if peers is None:
            peers = self._peers[topic] = set()
            self._lengths.add(len(topic))
        peers.add(peer)
        self._refreeze(topic)
        return first

    def remove(self, topic: bytes, peer: Peer) -> bool:
        """True if this removed the topic's last subscriber."""
        peers = self._peers.get(topic)
        if peers is None or peer not in peers:
            return False
        peers.discard(peer)
        if not peers:
            del self._peers[topic]
            self._lengths.remove(len(topic))
        self._refreeze(topic)
        return not peers

    def remove_peer(self, peer: Peer, every: bool = False) -> list[bytes]:
        """Forget a peer; the topics left with no subscriber at all (``every``: all the topics
        it had), in libzmq's order (its trie's: by bytes, a prefix before what extends it)."""
        theirs = sorted(topic for topic, peers in self._peers.items() if peer in peers)
        orphaned = [topic for topic in theirs if self.remove(topic, peer)]
        return theirs if every else orphaned

    def subscribers(self, data: bytes) -> tuple[Peer, ...]:
        """``match`` as a snapshot that later changes do not touch; the same tuple for every
        message while the subscriptions stay as they are (so runs of messages can be told)."""
        lengths = self._lengths.lengths
        if len(lengths) == 1:
            return self._frozen.get(data[: lengths[0]], ())
        return tuple(self.match(data))

    def match(self, data: bytes) -> AbstractSet[Peer]:
        """The peers subscribed to a prefix of ``data`` (not to be changed by the caller)."""
        peers_by_topic = self._peers
        lengths = self._lengths.lengths
        if len(lengths) == 1:
            # All topics of one length (often the one empty topic): no union to build.
            return peers_by_topic.get(data[: lengths[0]], _NOBODY)
        found: set[Peer] = set()
        for length in lengths:
            if length > len(data):
                break
            peers = peers_by_topic.get(data[:length])
            if peers:
                found |= peers
        return found
