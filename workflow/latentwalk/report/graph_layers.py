"""A user's decoder (TorchScript or an exported program) as the explorer page's layers, where the page can run it.

Both formats hold a graph of ATen operations. Where that graph is a chain (each operation takes the previous one's
output) of operations the page implements (:data:`OPS`), :func:`external_layers` reads it into the layers that
:func:`latentwalk.report.project.decode_layers` and the page's JavaScript run; anything else raises
:class:`Unsupported` naming the first operation in the way, and the page shows pre-decoded images instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from latentwalk.report.explorer import encode_f32

__all__ = ["Unsupported", "OPS", "external_layers"]

#: The ATen operations a decoder may use for the page to run it (shape-only ones included).
OPS: tuple[str, ...] = ("linear", "relu", "leaky_relu", "sigmoid", "hardtanh", "clamp", "unflatten", "view", "reshape",
                        "flatten", "_convolution", "conv2d", "conv_transpose2d", "upsample_nearest2d", "dropout",
                        "contiguous")


_BIG = float(np.finfo(np.float32).max)  # an open clamp bound (JSON has no infinity)


class Unsupported(ValueError):
    """The decoder cannot be run by the page (the message says why)."""


def external_layers(decoder: nn.Module, latent_dim: int) -> list[dict[str, Any]]:
    """The page's layers for a loaded external ``decoder`` of ``latent_dim`` inputs (see the module docstring)."""
    ops = _script_ops(decoder) if isinstance(decoder, torch.jit.ScriptModule) else _fx_ops(decoder)
    layers: list[dict[str, Any]] = []
    shape = [latent_dim]
    for name, args in ops:
        layer, shape = _layer(name, args, shape)
        if layer is not None:
            layers.append(layer)
    return layers


def _script_ops(module: torch.jit.ScriptModule) -> list[tuple[str, list[Any]]]:
    """A TorchScript module's operations in order (weights folded in by ``torch.jit.freeze``)."""
    try:
        graph = torch.jit.freeze(module.eval()).graph
    except Exception as exc:  # noqa: BLE001 (freezing can fail on scripted control flow)
        raise Unsupported(f"TorchScript module cannot be frozen: {str(exc).splitlines()[0][:120]}") from exc
    current = list(graph.inputs())[1]
    ops = []
    for node in graph.nodes():
        kind = node.kind()
        if kind in ("prim::Constant", "prim::ListConstruct"):
            continue
        inputs = list(node.inputs())
        if not kind.startswith("aten::") or not inputs or inputs[0] is not current:
            raise Unsupported(f"operation {kind} is not part of a chain of layers")
        current = node.output()
        ops.append((kind[len("aten::"):], [_script_value(value) for value in inputs[1:]]))
    if list(graph.outputs())[0] is not current:
        raise Unsupported("the graph's output is not its last operation's")
    return ops


def _script_value(value: Any) -> Any:
    node = value.node()
    if node.kind() == "prim::Constant":
        return value.toIValue()
    if node.kind() == "prim::ListConstruct":
        return [_script_value(item) for item in node.inputs()]
    raise Unsupported(f"an argument computed by {node.kind()} (only constants are supported)")


def _fx_ops(module: nn.Module) -> list[tuple[str, list[Any]]]:
    """An exported program's module (``torch.export.load(...).module()``) as operations in order."""
    graph = getattr(module, "graph", None)
    if graph is None:
        raise Unsupported(f"{type(module).__name__} has no graph")
    values: dict[Any, Any] = {}
    current = None
    ops = []
    for node in graph.nodes:
        if node.op == "placeholder":
            if current is not None:
                raise Unsupported("the decoder takes more than one input")
            current = node
        elif node.op == "get_attr":
            values[node] = _attribute(module, node.target)
        elif node.op == "call_module" and str(node.target).startswith("_guards"):
            continue
        elif node.op == "call_function":
            name = getattr(getattr(node.target, "_schema", None), "name", str(node.target)).split("::")[-1]
            if not node.args or node.args[0] is not current:
                raise Unsupported(f"operation {name} is not part of a chain of layers")
            args = [values[a] if isinstance(a, torch.fx.Node) and a in values else a for a in node.args[1:]]
            if any(isinstance(a, torch.fx.Node) for a in args):
                raise Unsupported(f"operation {name} takes a computed argument")
            ops.append((name, args))
            current = node
        elif node.op == "output":
            result = node.args[0]
            result = result[0] if isinstance(result, tuple | list) and len(result) == 1 else result
            if result is not current:
                raise Unsupported("the graph's output is not its last operation's")
        else:
            raise Unsupported(f"graph node {node.op} {node.target}")
    return ops


def _attribute(module: nn.Module, target: str) -> Any:
    out: Any = module
    for part in str(target).split("."):
        out = getattr(out, part)
    return out


def _f32(tensor: Any) -> str:
    return encode_f32(torch.as_tensor(tensor).detach().cpu().numpy())


def _arg(args: list[Any], k: int, default: Any) -> Any:
    return args[k] if len(args) > k and args[k] is not None else default


def _pair(value: Any) -> tuple[int, int]:
    items = list(value) if isinstance(value, list | tuple) else [value, value]
    return int(items[0]), int(items[-1])


def _layer(name: str, args: list[Any], shape: list[int]) -> tuple[dict[str, Any] | None, list[int]]:
    """One operation as a page layer (None: changes no values) and the shape after it (one example, no batch)."""
    if name not in OPS:
        raise Unsupported(f"it uses the operation {name}, which the page does not run")
    if name == "linear":
        w = args[0]
        b = args[1] if len(args) > 1 and args[1] is not None else torch.zeros(w.shape[0])
        if len(shape) != 1 or shape[0] != w.shape[1]:
            raise Unsupported(f"linear layer of {w.shape[1]} inputs after shape {shape}")
        return {"op": "linear", "in": int(w.shape[1]), "out": int(w.shape[0]), "w": _f32(w), "b": _f32(b)}, [int(w.shape[0])]
    if name in ("relu", "sigmoid"):
        return {"op": name}, shape
    if name == "leaky_relu":
        return {"op": "leaky", "slope": float(_arg(args, 0, 0.01))}, shape
    if name in ("hardtanh", "clamp"):
        low, high = (_arg(args, 0, -1.0), _arg(args, 1, 1.0)) if name == "hardtanh" else (_arg(args, 0, -_BIG), _arg(args, 1, _BIG))
        return {"op": "clamp", "min": float(low), "max": float(high)}, shape
    if name in ("dropout", "contiguous"):
        return None, shape
    if name in ("unflatten", "view", "reshape", "flatten"):
        size = int(np.prod(shape))
        if name == "unflatten":
            if int(args[0]) not in (1, -len(shape)):
                raise Unsupported(f"unflatten over dim {args[0]}")
            new = [int(v) for v in args[1]] + shape[1:]
        elif name == "flatten":
            new = [size]
        else:
            wanted = [int(v) for v in args[0]]
            if len(wanted) < 2 or wanted[0] != -1:
                raise Unsupported(f"{name} to {wanted} (only (-1, ...) keeps the batch)")
            new = wanted[1:]
        if int(np.prod(new)) != size:
            raise Unsupported(f"{name} from {shape} to {new}")
        return {"op": "reshape", "shape": new}, new
    if name == "upsample_nearest2d":
        size, scales = _arg(args, 0, None), _arg(args, 1, None)
        doubled = [shape[1] * 2, shape[2] * 2] if len(shape) == 3 else None
        if not (scales is not None and [float(s) for s in scales] == [2.0, 2.0] or size is not None and list(size) == doubled):
            raise Unsupported(f"nearest upsampling other than 2x (size {size}, scales {scales})")
        return {"op": "upsample2"}, [shape[0], shape[1] * 2, shape[2] * 2]
    return _convolution(name, args, shape)


def _convolution(name: str, args: list[Any], shape: list[int]) -> tuple[dict[str, Any], list[int]]:
    """conv2d, conv_transpose2d and TorchScript's _convolution as the page's ``conv`` (stride 1, 'same') or ``convT``."""
    w, b = args[0], args[1] if len(args) > 1 and args[1] is not None else None
    if name == "_convolution":
        stride, padding, dilation, transposed, output_padding, groups = args[2], args[3], args[4], args[5], args[6], args[7]
    elif name == "conv2d":
        stride, padding, dilation, groups = _arg(args, 2, 1), _arg(args, 3, 0), _arg(args, 4, 1), _arg(args, 5, 1)
        transposed, output_padding = False, 0
    else:
        stride, padding, output_padding = _arg(args, 2, 1), _arg(args, 3, 0), _arg(args, 4, 0)
        groups, dilation, transposed = _arg(args, 5, 1), _arg(args, 6, 1), True
    if isinstance(padding, str):
        raise Unsupported(f"convolution padding {padding!r}")
    (s, s2), (p, p2), (dl, dl2), (op, _) = _pair(stride), _pair(padding), _pair(dilation), _pair(output_padding)
    k, k2 = int(w.shape[2]), int(w.shape[3])
    if len(shape) != 3 or k != k2 or s != s2 or p != p2 or (dl, dl2) != (1, 1) or int(groups) != 1 or op != 0:
        raise Unsupported(f"convolution with kernel {k}x{k2}, stride {stride}, padding {padding}, dilation {dilation}, "
                          f"groups {groups}, output padding {output_padding} on shape {shape}")
    cin = int(w.shape[0] if transposed else w.shape[1])
    cout = int(w.shape[1] if transposed else w.shape[0])
    bias = b if b is not None else torch.zeros(cout)
    if cin != shape[0]:
        raise Unsupported(f"convolution of {cin} input channels on {shape[0]}")
    if transposed:
        h, wd = (shape[1] - 1) * s - 2 * p + k, (shape[2] - 1) * s - 2 * p + k
        return ({"op": "convT", "cin": cin, "cout": cout, "k": k, "stride": s, "pad": p, "w": _f32(w), "b": _f32(bias)},
                [cout, h, wd])
    if s != 1 or k % 2 == 0 or p != k // 2:
        raise Unsupported(f"convolution with stride {s} and padding {p} (the page runs stride-1 'same' ones)")
    return {"op": "conv", "cin": cin, "cout": cout, "k": k, "w": _f32(w), "b": _f32(bias)}, [cout, shape[1], shape[2]]
