/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk list: the images in the store that hold a disk. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/cli.h"
#include "common/error.h"
#include "common/text.h"
#include "source.h"

static const char usage[] =
  "Usage: podman-disk list [OPTIONS] [LAYOUT]\n"
  "\n"
  "List the images in containers/storage (and its additional image stores)\n"
  "that hold a disk: names, format, sizes, image ID and disk member.  With\n"
  "LAYOUT (oci:DIR, oci-archive:FILE or docker-archive:FILE), the images\n"
  "of that layout or archive instead.\n"
  "\n"
  "Options:\n"
  "      --format FORMAT        text (a table, the default) or json\n"
  "  -q, --quiet                image names only (IDs for unnamed images)\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

/* The table's columns: each as wide as its widest cell, two spaces apart,
 * as podman's tables are. */
enum { COL_IMAGE, COL_FORMAT, COL_SIZE, COL_VSIZE, COL_ID, COL_DISK, NCOLS };
static const char *const headers[NCOLS] = {
  "IMAGE", "FORMAT", "SIZE", "VIRTUAL SIZE", "IMAGE ID", "DISK",
};

struct list_state {
  enum output_format format;
  bool quiet;
  json_object *array;
  char *(*rows)[NCOLS];      /* the table, printed whole at the end, its
                                cells already made safe (common/text.h) */
  size_t nrows, allocated;
};

/* What a terminal shows of a safe UTF-8 string: its characters. */
static size_t
columns_of (const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char) *s & 0xc0) != 0x80;
  return n;
}

static void
print_row (char *const *cells, const size_t *width)
{
  for (int c = 0; c < NCOLS; c++) {
    fputs (cells[c], stdout);
    if (c < NCOLS - 1)
      printf ("%*s", (int) (width[c] - columns_of (cells[c]) + 2), "");
  }
  putchar ('\n');
}

/* The table, header first: nothing at all if the list failed. */
static void
print_table (const struct list_state *st)
{
  size_t width[NCOLS];

  for (int c = 0; c < NCOLS; c++) {
    width[c] = columns_of (headers[c]);
    for (size_t r = 0; r < st->nrows; r++)
      if (columns_of (st->rows[r][c]) > width[c])
        width[c] = columns_of (st->rows[r][c]);
  }
  print_row ((char *const *) headers, width);
  for (size_t r = 0; r < st->nrows; r++)
    print_row (st->rows[r], width);
}

static void
free_table (struct list_state *st)
{
  for (size_t r = 0; r < st->nrows; r++)
    for (int c = 0; c < NCOLS; c++)
      free (st->rows[r][c]);
  free (st->rows);
}

/* A cell: a copy of S made safe for the terminal. */
static char *
cell (const char *s)
{
  char *c = strdup (s);
  return c ? text_sanitize (c) : NULL;
}

/* "10.0 GiB", like podman's human sizes but in binary units. */
static const char *
human_size (uint64_t n, char *buf, size_t len)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = n;
  size_t u = 0;
  while (v >= 1024 && u < sizeof units / sizeof units[0] - 1) {
    v /= 1024;
    u++;
  }
  if (u == 0)
    snprintf (buf, len, "%" PRIu64 " B", n);
  else
    snprintf (buf, len, "%.1f %s", v, units[u]);
  return buf;
}

static int
list_one (const char *image_id, char *const *names,
          const struct disk_location *loc, const char *why, void *arg)
{
  /* Layouts name images by digest: the short ID is the hex, as podman's. */
  if (strncmp (image_id, "sha256:", 7) == 0)
    image_id += 7;
  struct list_state *st = arg;
  char size[32], vsize[32], short_id[13];

  /* Names, IDs and members come from the store or the layout, which an
   * image's author or the layout's owner wrote: shown by the rule of
   * common/text.h, as in error messages.
   */
  snprintf (short_id, sizeof short_id, "%s", image_id);
  text_sanitize (short_id);
  if (!loc) {
    /* Most images of a store are no containerDisks: that goes without a
     * word.  A disk that cannot be served is worth one.
     */
    if (error_is_not_container_disk ())
      debug ("image %s has no disk: %s", short_id, why);
    else {
      fputs ("podman-disk: warning: image ", stderr);
      if (names && names[0]) {
        text_fputs (names[0], stderr);
        fputc (' ', stderr);
      }
      fprintf (stderr, "%s: %s\n", short_id, why);    /* WHY is an error_message () */
    }
    return 0;
  }
  if (st->format == FORMAT_JSON) {
    json_object_array_add (st->array, disk_location_to_json (loc));
    return 0;
  }
  if (st->quiet) {
    if (names && names[0])
      for (char *const *n = names; *n; n++) {
        text_fputs (*n, stdout);
        putchar ('\n');
      }
    else
      printf ("%s\n", short_id);
    return 0;
  }
  /* Doubling: a layout of 30,000 images stays linear. */
  if (st->nrows == st->allocated) {
    size_t n = st->allocated ? 2 * st->allocated : 64;
    void *rows = reallocarray (st->rows, n, sizeof *st->rows);
    if (!rows)
      return error_errno (errno, "realloc");
    st->rows = rows;
    st->allocated = n;
  }
  char **row = st->rows[st->nrows++];
  row[COL_IMAGE] = cell (names && names[0] ? names[0] : "<none>");
  row[COL_FORMAT] = cell (diskfmt_name (loc->fmt.format));
  row[COL_SIZE] = cell (human_size (loc->size, size, sizeof size));
  row[COL_VSIZE] = cell (human_size (loc->fmt.virtual_size, vsize, sizeof vsize));
  row[COL_ID] = cell (short_id);
  row[COL_DISK] = cell (loc->member);
  for (int c = 0; c < NCOLS; c++)
    if (!row[c])
      return error_errno (errno, "strdup");
  return 0;
}

int
cmd_list (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 }
  };
  struct list_state st = { .format = FORMAT_TEXT };
  int c;

  while ((c = getopt_long (argc, argv, "hq", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg))
      continue;
    switch (c) {
    case 'h': fputs (usage, stdout); return EXIT_OK;
    case 'q': st.quiet = true; break;
    case 'f':
      if (cli_parse_format ("list", optarg, &st.format) == -1)
        return EXIT_USAGE;
      break;
    default: return cli_bad_option ("list");
    }
  }
  /* A layout or archive, or else (no argument) the whole store. */
  const char *ref = optind < argc ? argv[optind++] : NULL;
  const struct source *src = source_for (ref);
  if (ref && (!src->list || src == source_for (NULL)))
    return usage_error ("list", "'%s' is no layout or archive to list: give "
                        "oci:DIR, oci-archive:FILE or docker-archive:FILE, "
                        "or nothing for the store", ref);
  if (optind < argc)
    return usage_error ("list", "unexpected argument '%s'", argv[optind]);

  if (st.format == FORMAT_JSON)
    st.array = json_object_new_array ();

  struct locate_request req = { .store = global_opts.store };
  int r = src->list (ref, &req, list_one, &st);
  if (st.array) {
    if (r == 0) {
      text_fput_json (json_object_to_json_string_ext (
                        st.array, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE),
                      stdout);
      putchar ('\n');
    }
    json_object_put (st.array);
  }
  if (r == 0 && st.format == FORMAT_TEXT && !st.quiet)
    print_table (&st);
  free_table (&st);
  return r == -1 ? EXIT_ERROR : EXIT_OK;
}
