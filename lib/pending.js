'use strict'
// The requests of a middleware that wait for the native side, and what keeps Node alive meanwhile.

// While verifications are pending on the native side, this timer keeps Node alive: the native
// callback that delivers outcomes is weak, so that a server that closed can exit.
let keepAlive
let holding = 0
function hold() {
  if (holding++ === 0) (keepAlive ??= setInterval(() => {}, 0x7fffffff)).ref()
}
function release() {
  if (--holding === 0) keepAlive.unref()
}

/** The requests of one middleware that wait for the native side, by call id. */
class Pending {
  constructor() {
    this.calls = new Map()
    this.nextId = 0
  }

  /** Registers a waiting request; returns its call id. */
  open(call) {
    const id = this.nextId
    this.nextId = (id + 1) >>> 0
    this.calls.set(id, call)
    hold()
    return id
  }

  /** The request waiting under `id`, now no longer waiting; undefined if there is none. */
  close(id) {
    const call = this.calls.get(id)
    if (call !== undefined) {
      this.calls.delete(id)
      release()
    }
    return call
  }

  /** The request waiting under `id`, still waiting. */
  get(id) {
    return this.calls.get(id)
  }
}

module.exports = { Pending }
