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
/// The number of colours (a global Swift 6 cannot read safely).
static inline int krylov_colors(void) { return COLORS; }
/// Attribute bits are macros too.
static inline attr_t krylov_attr_bold(void) { return A_BOLD; }
static inline attr_t krylov_attr_dim(void) { return A_DIM; }
static inline attr_t krylov_attr_reverse(void) { return A_REVERSE; }
static inline attr_t krylov_attr_underline(void) { return A_UNDERLINE; }
/// Mouse masks are macros built from other macros.
static inline mmask_t krylov_mouse_events(void) { return BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED; }
static inline mmask_t krylov_button1(void) { return BUTTON1_PRESSED | BUTTON1_CLICKED; }
static inline mmask_t krylov_wheel_up(void) { return BUTTON4_PRESSED; }
static inline mmask_t krylov_wheel_down(void) { return BUTTON5_PRESSED; }
#endif
