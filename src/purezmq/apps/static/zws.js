// A ZeroMQ socket in the browser: ZWS 2.0 (RFC 45) over the browser's WebSocket, talking to a
// purezmq (or libzmq) socket bound on ws://. The bare "ZWS2.0" protocol, the one a browser can
// ask for: no handshake commands, each side's first message is its routing id. Each ZeroMQ
// frame is one binary WebSocket message: a flags byte (1: more frames follow), then the body.
"use strict";

class ZwsSocket {
  // url: "ws://host:port/path". options.subscribe: topics (strings) for a SUB of a PUB.
  // options.routingId: this socket's routing id (a string; "" by default).
  constructor(url, options = {}) {
    this.url = url;
    this.topics = options.subscribe || [];
    this.routingId = options.routingId || "";
    this.onmessage = null;   // (frames: Uint8Array[]) => void, one call per whole message
    this.onopen = null;
    this.onclose = null;
    this._frames = [];
    this._peerIdSeen = false;
    this._encoder = new TextEncoder();
    this._open();
  }

  _open() {
    const ws = new WebSocket(this.url, ["ZWS2.0"]);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      this._frames = [];
      this._peerIdSeen = false;
      this._sendFrame(this._encoder.encode(this.routingId), false);
      for (const topic of this.topics) {
        const body = this._encoder.encode(topic);
        const subscription = new Uint8Array(body.length + 1);
        subscription[0] = 1;  // 0x01 topic: subscribe (RFC 45 keeps ZMTP 3.0's form)
        subscription.set(body, 1);
        this._sendFrame(subscription, false);
      }
      if (this.onopen) this.onopen();
    };
    ws.onmessage = (event) => {
      const data = new Uint8Array(event.data);
      if (data.length === 0) return;
      const more = (data[0] & 1) === 1;
      const body = data.subarray(1);
      if (!this._peerIdSeen) { this._peerIdSeen = true; return; }  // The peer's routing id.
      this._frames.push(body);
      if (!more) {
        const frames = this._frames;
        this._frames = [];
        if (this.onmessage) this.onmessage(frames);
      }
    };
    ws.onclose = () => {
      if (this.onclose) this.onclose();
      if (!this._closed) setTimeout(() => this._open(), 1000);  // ZeroMQ reconnects.
    };
    this.ws = ws;
  }

  _sendFrame(body, more) {
    const message = new Uint8Array(body.length + 1);
    message[0] = more ? 1 : 0;
    message.set(body, 1);
    this.ws.send(message);
  }

  // Send a message: an array of frames (strings or Uint8Arrays).
  send(frames) {
    frames.forEach((frame, i) => {
      const body = typeof frame === "string" ? this._encoder.encode(frame) : frame;
      this._sendFrame(body, i < frames.length - 1);
    });
  }

  close() {
    this._closed = true;
    this.ws.close();
  }
}
