// ncursesw with the wide-character API switched on before the header is read,
// so that setcchar, wadd_wch and wget_wch import into Swift directly.
#ifndef KRYLOV_CNCURSESW_SHIM_H
#define KRYLOV_CNCURSESW_SHIM_H
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <ncurses.h>

/// COLOR_PAIR is a macro: Swift cannot import it.
static inline int krylov_color_pair(int n) { return COLOR_PAIR(n); }
/// getmaxyx is a macro writing to its arguments.
static inline void krylov_getmaxyx(WINDOW *w, int *y, int *x) { getmaxyx(w, *y, *x); }
#endif
