"""The workflow compiler: validation with every error reported, and closure assembly.

See ADR 0050 for the error model. Entry points are ``compile_workflow`` and ``compile_dynamic``.
"""

from skyloom_core.compiler._context import END_NODE, START_NODE, LaunchPlanInterface
from skyloom_core.compiler.api import compile_dynamic, compile_workflow
from skyloom_core.compiler.codes import ErrorCode
from skyloom_core.errors import CompilationFailed, CompileError

__all__ = [
    "END_NODE",
    "START_NODE",
    "CompilationFailed",
    "CompileError",
    "ErrorCode",
    "LaunchPlanInterface",
    "compile_dynamic",
    "compile_workflow",
]
