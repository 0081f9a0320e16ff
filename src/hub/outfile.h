/* outfile.h - the files the hub appends JSON lines to: those of file:
 * consumers and the dead-letter file.
 *
 * A file is opened with O_APPEND and never through a symbolic link
 * (O_NOFOLLOW on the last component: a link planted where the file should be
 * is refused, not followed). A file the hub creates gets the operator's mode
 * (--file-mode, default 0640) exactly, whatever the umask; an existing file
 * keeps its own. A line is written whole or not at all: a short write is
 * continued, and when the rest cannot be written (a full disk) the file is
 * cut back to where the line began, so it always ends with a whole line.
 *
 * Rotation: SIGHUP makes the main thread call hs__outfile_reopen_all(), which
 * bumps a generation; each owner of a file compares it with the generation
 * it opened its file in before its next write, and reopens by path when it
 * changed. The hot path pays one relaxed atomic load.
 *
 * Threads: every function may be called from any thread. A descriptor is
 * written by one thread at a time (its owner, or under its owner's lock).
 */
#ifndef HS_HUB_OUTFILE_H
#define HS_HUB_OUTFILE_H

#include <stddef.h>

#define HS__DEFAULT_FILE_MODE 0640u

/* Open path for appending (creating it with mode when missing). Returns the
 * descriptor, or -1 with errno kept and a sentence naming the path in err
 * ("PATH is a symbolic link ...", "cannot open PATH: ..."). */
int hs__outfile_open(const char *path, unsigned mode, char *err, size_t errlen);

/* Append line[0..len) whole: 0, or the errno of the write that failed; the
 * file is then cut back to where the line began (or, when another writer
 * appended meanwhile, the fragment is ended with a newline if possible, so
 * that the lines after it stay whole). */
int hs__outfile_write_line(int fd, const char *line, size_t len);

/* The current reopen generation, and SIGHUP's bump of it. */
unsigned hs__outfile_generation(void);
void hs__outfile_reopen_all(void);

/* Parse an octal file mode ("0640", "640"): 0, or -1 unless it is at most
 * 0777 and lets the owner read and write. */
int hs__outfile_parse_mode(const char *text, unsigned *mode);

#endif
