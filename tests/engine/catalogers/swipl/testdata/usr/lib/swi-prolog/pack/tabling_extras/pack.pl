% Shaped like a SWI-Prolog pack description (reference: swi-prolog.org/howto/PackInfo.html)
name(tabling_extras).
version('1.3.0').
title('Extra utilities for tabled predicates').
keywords([tabling, memoization]).
author('Ada Example', 'mailto:ada@example.org').
packager('Ada Example', 'mailto:ada@example.org').
maintainer('Ada Example', 'mailto:ada@example.org').
home('https://example.org/tabling_extras').
download('https://example.org/tabling_extras/releases/*.zip').
requires(prolog >= '9.0.0').
