# tests/tcl/: the console's commands (introspect/) against real VMs, through
# vitroctl eval, a plain tclsh with the package, and vitro itself.
TESTS += $(sort $(wildcard tests/tcl/*.sh))
