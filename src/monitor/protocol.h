/* The contract between the engine and vessel-monitor, the per-container
 * monitor of detached containers (see src/monitor/monitor.c for its command
 * line). Plain C, no dependencies: the engine includes it to talk to the
 * monitor's attach socket and to read its exit file.
 *
 * The attach socket (--attach-socket PATH) is a unix SOCK_STREAM socket.
 * Every client that connects receives each output byte the container
 * produces from then on (not the past: that is the log's job):
 *
 *   - pipes (non-tty): in Docker's multiplexed stream framing, which the
 *     Docker API's attach endpoint sends as is,
 *         [stream(1) 0 0 0 size(4, big endian)] size bytes of output
 *     with stream MONITOR_STREAM_STDOUT or MONITOR_STREAM_STDERR;
 *   - a pty (--pty-fd): the raw bytes, as Docker does for Tty containers.
 *
 * What a client sends is always framed the same way, whatever the tty mode,
 * so that input and control messages share one connection and one ordering:
 *
 *         [kind(1) 0 0 0 size(4, big endian)] size bytes of payload
 *
 *   MONITOR_MSG_STDIN        payload: bytes for the container's stdin (the
 *                            --stdin-fd pipe or the pty master)
 *   MONITOR_MSG_RESIZE       payload: rows(2, BE) cols(2, BE); TIOCSWINSZ on
 *                            the pty master (ignored without a pty)
 *   MONITOR_MSG_CLOSE_STDIN  payload: none; closes the container's stdin pipe
 *                            once the input queued before it is written, so
 *                            the container reads EOF (Docker's StdinOnce and
 *                            `echo x | docker run -i`); ignored with a pty
 *
 * A frame with an unknown kind, or larger than MONITOR_MSG_MAX, ends that
 * client's connection. A client that does not read its output fast enough
 * is disconnected (MONITOR_CLIENT_BACKLOG bytes queued for it at most): a
 * slow reader never blocks the container. When the container has exited,
 * the monitor writes the exit file, then closes every client: EOF on the
 * attach socket means the exit file is there.
 *
 * The exit file (--exit-file PATH), written atomically when the container's
 * init has exited:
 *
 *   {"exit_code":137,"signal":9,"finished_at":"2024-01-02T03:04:05.123456789Z","oom_killed":false}
 *
 * exit_code is the exit status, or 128 + the signal as Docker reports it;
 * signal is 0 unless a signal ended the process. oom_killed is always false
 * from the monitor (it knows nothing of cgroups): the engine tells an OOM
 * kill from the cgroup's memory.events.
 *
 * The log (--log PATH) is in Docker's json-file format, one object a line:
 *
 *   {"log":"hello\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}
 *
 * rotated to PATH.1 ... PATH.<max-file - 1> (PATH.1 the newest of them).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define MONITOR_STREAM_STDIN  0
#define MONITOR_STREAM_STDOUT 1
#define MONITOR_STREAM_STDERR 2

#define MONITOR_MSG_STDIN       0
#define MONITOR_MSG_RESIZE      1
#define MONITOR_MSG_CLOSE_STDIN 2

#define MONITOR_FRAME_HEADER   8
#define MONITOR_MSG_MAX        (1u << 20)
#define MONITOR_CLIENT_BACKLOG (256u * 1024)

/* Defaults of --log-max-size and --log-max-file. */
#define MONITOR_LOG_MAX_SIZE_DEFAULT (10ll * 1024 * 1024)
#define MONITOR_LOG_MAX_FILE_DEFAULT 3

static inline void monitor_frame_header(uint8_t out[MONITOR_FRAME_HEADER], uint8_t kind, uint32_t size)
{
	out[0] = kind;
	out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)(size >> 24);
	out[5] = (uint8_t)(size >> 16);
	out[6] = (uint8_t)(size >> 8);
	out[7] = (uint8_t)size;
}

/* Returns the size; *ret_kind is the kind (or stream) byte. */
static inline uint32_t monitor_frame_parse(const uint8_t in[MONITOR_FRAME_HEADER], uint8_t *ret_kind)
{
	*ret_kind = in[0];
	return (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | (uint32_t)in[7];
}

/* The complete MONITOR_MSG_RESIZE frame for rows x cols. */
static inline void monitor_resize_frame(uint8_t out[MONITOR_FRAME_HEADER + 4], uint16_t rows, uint16_t cols)
{
	monitor_frame_header(out, MONITOR_MSG_RESIZE, 4);
	out[8] = (uint8_t)(rows >> 8);
	out[9] = (uint8_t)rows;
	out[10] = (uint8_t)(cols >> 8);
	out[11] = (uint8_t)cols;
}
