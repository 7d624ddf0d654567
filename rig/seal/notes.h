/* Operator notes: notes.jsonl in the run directory, one JSON object a line,
 * {"utc": "2026-11-25T10:00:00Z", "operator": "...", "text": "..."}. */
#ifndef RIG_NOTES_H
#define RIG_NOTES_H

#define NOTES_NAME "notes.jsonl"
#define NOTE_TEXT_MAX 4096


/* Appends one note, forced to disk.  A torn last line left by a crash is
 * closed with a newline first, so the new note stands on a line of its own.
 * -EINVAL for an empty text or one longer than NOTE_TEXT_MAX, -EILSEQ for
 * one that is not UTF-8, -RIG_ENOTREG when notes.jsonl is not a regular
 * file. */
int notes_append(const char *run_dir, const char *operator_name, const char *text);

#endif
