/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: tar member offsets (src/image/tarscan.c) and the merged
 * layer index over them (src/image/tartree.c), with the /disk/ rule.
 *
 * The input is a tar.  It is scanned alone, then added twice as two
 * layers of an image (whiteouts on) and its disk picked.  Properties:
 * every member's header and data lie inside the tar, in order, with the
 * header before the data (a sparse member's logical size may be larger);
 * a picked disk's bytes lie inside the tar, or it has a flaw that
 * tartree_entry_check refuses; a refusal (truncated, compressed, names out
 * of the root, a flawed disk) is one printable line; nothing leaks.
 */
#include <inttypes.h>

#include "image/tarscan.h"
#include "image/tartree.h"
#include "fuzz.h"

#define BASE 4096          /* reported offsets are BASE + offset in the tar */

struct scan {
  uint64_t len;
  uint64_t last_header;
  unsigned members;
};

static int
check_member (const struct tar_member *m, void *arg)
{
  struct scan *s = arg;

  FUZZ_CHECK (m->name != NULL, "member without a name");
  FUZZ_CHECK (m->header_offset >= BASE && m->offset >= BASE,
              "%s: offsets before the tar", m->name);
  FUZZ_CHECK (m->header_offset < m->offset, "%s: data before its header",
              m->name);
  FUZZ_CHECK (s->members == 0 || m->header_offset > s->last_header,
              "%s: header at %" PRIu64 " not after the previous one",
              m->name, m->header_offset);
  FUZZ_CHECK (m->offset - BASE <= s->len
              && (m->flaw == TF_SPARSE || m->size <= s->len - (m->offset - BASE)),
              "%s: data [%" PRIu64 ", +%" PRIu64 ") past the end of %" PRIu64,
              m->name, m->offset - BASE, m->size, s->len);
  if (m->type == TN_LNK)
    FUZZ_CHECK (m->symlink != NULL, "%s: symlink without a target", m->name);
  if (m->hardlink)
    FUZZ_CHECK (m->size == 0 && m->type == TN_REG,
                "%s: hard link with data or of type %d", m->name, m->type);
  s->last_header = m->header_offset;
  s->members++;
  return 0;
}

static void
pick_disk (const uint8_t *data, size_t size)
{
  struct tartree *tt = tartree_new ();
  struct tree t;
  struct tnode node;
  char *member;

  if (!tt)
    abort ();
  for (uint32_t layer = 0; layer < 2; layer++) {
    error_clear ();
    if (tartree_begin_layer (tt, layer, "layer", true) == -1 ||
        tarscan_memory (data, size, BASE, "layer", tartree_add_member, tt) != 0 ||
        tartree_end_layer (tt) == -1) {
      fuzz_check_error_message ();
      tartree_free (tt);
      return;
    }
  }
  tartree_tree (tt, &t);
  error_clear ();
  if (tree_pick_disk (&t, NULL, &node, &member) == 0) {
    const struct tartree_entry *e = tartree_node_entry (&node);
    FUZZ_CHECK (node.type == TN_REG && e && e->type == TN_REG,
                "picked %s, not a regular file", member);
    error_clear ();
    if (e->flaw != TF_NONE) {
      FUZZ_CHECK (tartree_entry_check (e, "layer") == -1,
                  "%s: flaw %d not refused", member, e->flaw);
      fuzz_check_error_message ();
    }
    else
      FUZZ_CHECK (e->offset >= BASE && e->offset - BASE <= size &&
                  e->size <= size - (e->offset - BASE),
                  "disk %s [%" PRIu64 ", +%" PRIu64 ") outside the tar of %zu",
                  member, e->offset, e->size, size);
    FUZZ_CHECK (member[0] == '/' && !strstr (member, "/../") &&
                !strstr (member, "//"), "member path '%s'", member);
    tnode_release (&t, &node);
    free (member);
  }
  else
    fuzz_check_error_message ();
  tartree_free (tt);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct scan s = { .len = size };

  error_clear ();
  (void) tarscan_compression (data, size);
  if (tarscan_memory (data, size, BASE, "fuzz.tar", check_member, &s) != 0)
    fuzz_check_error_message ();
  pick_disk (data, size);
  return 0;
}
