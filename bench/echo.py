"""The yardstick: a bare python-socketio relay under daphne, the same stack as the chat server
without the chat server (no database, no routing). bench/compare.py runs it in the same run as
the chat server, pinned to the same core, and reports the chat server's figures as ratios to it.

    join {room}          -> enters the room, acks {"ok": true}
    send {room, seq, ..} -> emitted as "msg" to the rest of the room (no ack asked)
"""

import socketio

sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")


@sio.on("join")
async def join(sid, data):
    await sio.enter_room(sid, str(data["room"]))
    return {"ok": True}


@sio.on("send")
async def send(sid, data):
    await sio.emit("msg", data, room=str(data["room"]), skip_sid=sid)


app = socketio.ASGIApp(sio)
