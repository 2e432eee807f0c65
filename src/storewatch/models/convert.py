"""Converting TensorFlow.js graph models to ONNX, op by op, with numpy and the ``onnx`` package.

Why our own: the usual route (tfjs -> TensorFlow SavedModel -> tf2onnx) needs TensorFlow, which this product does
not install. The graphs we use are small and use a handful of ops, each translated by one function in
``_HANDLERS``; a graph with an op not in the table fails with the op and node named. Adding a model (e.g.
BlazePose) means adding its missing ops here.

Conventions of these graphs (exported ONNX -> TensorFlow -> TF.js, see the model notes): Conv2D, MaxPool and
ResizeBilinear are NHWC and sit between Transposes; each is emitted as Transpose -> NCHW op -> Transpose and
onnxruntime's optimiser cancels the pairs. Constant sub-graphs (SparseToDense, AddV2 of constants) are folded in
numpy. A ``PadV2`` with ``-inf`` feeding a MaxPool is folded into the MaxPool's ``pads`` (left standalone it breaks
int8 quantisation). ``ResizeBilinear`` is emitted with scales, not sizes, so that with ``dynamic_hw`` the model
takes any input size whose sides are multiples of the network's stride.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from storewatch.errors import ModelError
from storewatch.models.registry import CONVERTER_VERSION as CONVERTER_VERSION
from storewatch.models.tfjs import TfjsGraph, TfNode

OPSET = 17
_TO_NCHW = [0, 3, 1, 2]
_TO_NHWC = [0, 2, 3, 1]


@dataclass(slots=True)
class _PendingPad:
    """A PadV2 with -inf not yet emitted: ``pads`` are (before, after) per axis in the layout of ``source``."""

    source: str
    pads: NDArray[np.int64]


@dataclass(slots=True)
class _Ctx:
    graph: TfjsGraph
    static_input_hw: tuple[int, int]
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    consts: dict[str, NDArray[Any]] = field(default_factory=dict)
    pending: dict[str, _PendingPad] = field(default_factory=dict)
    inputs: list[onnx.ValueInfoProto] = field(default_factory=list)
    counter: int = 0

    def fresh(self, base: str) -> str:
        self.counter += 1
        return f"{base}__{self.counter}"

    def const_input(self, name: str) -> NDArray[Any]:
        key = _ref(name)
        if key not in self.consts:
            raise ModelError(f"node input {name!r} must be a constant")
        return self.consts[key]

    def tensor(self, name: str) -> str:
        """The ONNX tensor for a TF input reference, emitting constants and pending pads on first use."""
        key = _ref(name)
        if key in self.pending:
            p = self.pending.pop(key)
            self.emit("Pad", [p.source, self.initializer(key + "/pads", _onnx_pads(p.pads))], [key], _neg_inf=True)
        elif key in self.consts and not any(i.name == key for i in self.inits):
            self.initializer(key, self.consts[key], name=key)
        return key

    def initializer(self, base: str, value: NDArray[Any], name: str | None = None) -> str:
        name = name or self.fresh(base)
        arr = np.asarray(value)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def emit(self, op: str, inputs: list[str], outputs: list[str], _neg_inf: bool = False, **attrs: Any) -> None:
        if _neg_inf:
            inputs = [*inputs, self.initializer(outputs[0] + "/value", np.array(-np.inf, np.float32))]
        self.nodes.append(helper.make_node(op, inputs, outputs, name=self.fresh(outputs[0]), **attrs))

    def nhwc_op(self, node: TfNode, x: str, op: str, extra_inputs: list[str] | None = None, **attrs: Any) -> None:
        """Emit an NCHW ONNX op for an NHWC TF op: Transpose -> op -> Transpose."""
        t_in, t_out = self.fresh(node.name + "/nchw"), self.fresh(node.name + "/op")
        self.emit("Transpose", [x], [t_in], perm=_TO_NCHW)
        self.emit(op, [t_in, *(extra_inputs or [])], [t_out], **attrs)
        self.emit("Transpose", [t_out], [node.name], perm=_TO_NHWC)


def _ref(name: str) -> str:
    """TF input reference -> tensor name: ``node:0`` is ``node``; ``node:1`` stays as it is."""
    return name[:-2] if name.endswith(":0") else name


def _onnx_pads(pads: NDArray[Any]) -> NDArray[np.int64]:
    """TF paddings [[before, after], ...] -> ONNX [all befores..., all afters...]."""
    p = np.asarray(pads, np.int64).reshape(-1, 2)
    return np.concatenate([p[:, 0], p[:, 1]])


def _is_const(ctx: _Ctx, node: TfNode) -> bool:
    return all(_ref(i) in ctx.consts for i in node.inputs)


# --- op handlers ---------------------------------------------------------------------------------------------


def _const(ctx: _Ctx, node: TfNode) -> None:
    if node.name not in ctx.graph.weights:
        raise ModelError(f"Const {node.name!r} has no weight data")
    ctx.consts[node.name] = ctx.graph.weights[node.name]


def _placeholder(ctx: _Ctx, node: TfNode) -> None:
    shape = ctx.graph.input_shapes[node.name]
    ctx.inputs.append(helper.make_tensor_value_info(node.name, TensorProto.FLOAT, list(shape)))


def _identity(ctx: _Ctx, node: TfNode) -> None:
    ctx.emit("Identity", [ctx.tensor(node.inputs[0])], [node.name])


def _binary(onnx_op: str, fn: Callable[[Any, Any], Any]) -> Callable[[_Ctx, TfNode], None]:
    def handler(ctx: _Ctx, node: TfNode) -> None:
        if _is_const(ctx, node):
            ctx.consts[node.name] = np.asarray(fn(ctx.const_input(node.inputs[0]), ctx.const_input(node.inputs[1])))
        else:
            ctx.emit(onnx_op, [ctx.tensor(i) for i in node.inputs[:2]], [node.name])

    return handler


def _unary(onnx_op: str, **attrs: Any) -> Callable[[_Ctx, TfNode], None]:
    def handler(ctx: _Ctx, node: TfNode) -> None:
        ctx.emit(onnx_op, [ctx.tensor(node.inputs[0])], [node.name], **attrs)

    return handler


def _leaky_relu(ctx: _Ctx, node: TfNode) -> None:
    ctx.emit("LeakyRelu", [ctx.tensor(node.inputs[0])], [node.name], alpha=node.attr_float("alpha", 0.2))


def _transpose(ctx: _Ctx, node: TfNode) -> None:
    perm = [int(v) for v in ctx.const_input(node.inputs[1])]
    src = _ref(node.inputs[0])
    if src in ctx.pending:  # carry a -inf pad through the transpose towards its MaxPool
        p = ctx.pending.pop(src)
        ctx.emit("Transpose", [p.source], [node.name + "/unpadded"], perm=perm)
        ctx.pending[node.name] = _PendingPad(node.name + "/unpadded", p.pads.reshape(-1, 2)[perm])
        return
    ctx.emit("Transpose", [ctx.tensor(node.inputs[0])], [node.name], perm=perm)


def _pad(ctx: _Ctx, node: TfNode) -> None:
    paddings = np.asarray(ctx.const_input(node.inputs[1]))
    value = float(np.asarray(ctx.const_input(node.inputs[2])).reshape(-1)[0]) if node.op == "PadV2" else 0.0
    if value == -np.inf:
        ctx.pending[node.name] = _PendingPad(ctx.tensor(node.inputs[0]), paddings)
        return
    inputs = [ctx.tensor(node.inputs[0]), ctx.initializer(node.name + "/pads", _onnx_pads(paddings))]
    if value != 0.0:
        inputs.append(ctx.initializer(node.name + "/value", np.array(value, np.float32)))
    ctx.emit("Pad", inputs, [node.name], mode="constant")


def _nhwc_window(node: TfNode, key: str) -> list[int]:
    values = node.attr_int_list(key)
    layout = node.attr_str("data_format", "NHWC")
    if not values:
        return [1, 1]
    return values[1:3] if layout == "NHWC" else values[2:4]


def _check_valid_padding(node: TfNode) -> None:
    if node.attr_str("padding", "VALID") != "VALID":
        raise ModelError(f"{node.op} {node.name!r}: padding {node.attr_str('padding')!r} is not supported (VALID only)")
    if node.attr_str("data_format", "NHWC") != "NHWC":
        raise ModelError(f"{node.op} {node.name!r}: only NHWC data_format is supported")


def _conv2d(ctx: _Ctx, node: TfNode) -> None:
    _check_valid_padding(node)
    w = ctx.const_input(node.inputs[1]).astype(np.float32).transpose(3, 2, 0, 1)  # HWIO -> OIHW
    w_name = ctx.initializer(node.name + "/W", w)
    ctx.nhwc_op(
        node, ctx.tensor(node.inputs[0]), "Conv", [w_name],
        strides=_nhwc_window(node, "strides"), dilations=_nhwc_window(node, "dilations"),
        kernel_shape=list(w.shape[2:]),
    )  # fmt: skip


def _max_pool(ctx: _Ctx, node: TfNode) -> None:
    _check_valid_padding(node)
    src = _ref(node.inputs[0])
    pads = [0, 0, 0, 0]
    if src in ctx.pending:  # fold the -inf PadV2 (now NHWC-ordered) into the pool's pads
        p = ctx.pending.pop(src)
        hw = p.pads.reshape(-1, 2)[1:3]
        pads = [int(hw[0, 0]), int(hw[1, 0]), int(hw[0, 1]), int(hw[1, 1])]
        x = p.source
    else:
        x = ctx.tensor(node.inputs[0])
    ctx.nhwc_op(
        node, x, "MaxPool", kernel_shape=_nhwc_window(node, "ksize"), strides=_nhwc_window(node, "strides"), pads=pads
    )


def _resize_bilinear(ctx: _Ctx, node: TfNode) -> None:
    if node.attr_bool("align_corners") or not node.attr_bool("half_pixel_centers"):
        raise ModelError(f"ResizeBilinear {node.name!r}: only half_pixel_centers without align_corners is supported")
    size = ctx.const_input(node.inputs[1]).astype(np.float64)
    in_hw = _static_hw(ctx, ctx.tensor(node.inputs[0]))
    scales = np.array([1.0, 1.0, size[0] / in_hw[0], size[1] / in_hw[1]], np.float32)
    roi = ctx.initializer(node.name + "/roi", np.zeros(0, np.float32))
    sc = ctx.initializer(node.name + "/scales", scales)
    ctx.nhwc_op(
        node, ctx.tensor(node.inputs[0]), "Resize", [roi, sc],
        mode="linear", coordinate_transformation_mode="half_pixel", nearest_mode="floor",
    )  # fmt: skip


def _static_hw(ctx: _Ctx, tensor: str) -> tuple[int, int]:
    """Height and width (NHWC) of ``tensor`` for the static input size, by ONNX shape inference so far."""
    model = _assemble(ctx, outputs=[helper.make_tensor_value_info(tensor, TensorProto.FLOAT, None)])
    inferred = onnx.shape_inference.infer_shapes(model)
    for vi in [*inferred.graph.value_info, *inferred.graph.output]:
        if vi.name == tensor:
            dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
            if len(dims) == 4 and dims[1] and dims[2]:
                return dims[1], dims[2]
    raise ModelError(f"cannot infer the spatial size of {tensor!r}")


def _concat(ctx: _Ctx, node: TfNode) -> None:
    axis = int(np.asarray(ctx.const_input(node.inputs[-1])).reshape(-1)[0])
    ctx.emit("Concat", [ctx.tensor(i) for i in node.inputs[:-1]], [node.name], axis=axis)


def _split_v(ctx: _Ctx, node: TfNode) -> None:
    sizes = np.asarray(ctx.const_input(node.inputs[1]), np.int64)
    axis = int(np.asarray(ctx.const_input(node.inputs[2])).reshape(-1)[0])
    outs = [node.name] + [f"{node.name}:{i}" for i in range(1, len(sizes))]
    ctx.emit("Split", [ctx.tensor(node.inputs[0]), ctx.initializer(node.name + "/split", sizes)], outs, axis=axis)


def _reshape(ctx: _Ctx, node: TfNode) -> None:
    shape = np.asarray(ctx.const_input(node.inputs[1]), np.int64)
    ctx.emit("Reshape", [ctx.tensor(node.inputs[0]), ctx.initializer(node.name + "/shape", shape)], [node.name])


def _sparse_to_dense(ctx: _Ctx, node: TfNode) -> None:
    if not _is_const(ctx, node):
        raise ModelError(f"SparseToDense {node.name!r}: only constant inputs are supported")
    idx, shape, values, default = (ctx.const_input(i) for i in node.inputs)
    dense = np.full(tuple(int(s) for s in np.atleast_1d(shape)), default, dtype=np.asarray(values).dtype)
    if np.asarray(idx).size:
        dense[tuple(np.asarray(idx).reshape(len(dense.shape), -1))] = values
    ctx.consts[node.name] = dense


_HANDLERS: dict[str, Callable[[_Ctx, TfNode], None]] = {
    "Const": _const,
    "Placeholder": _placeholder,
    "Identity": _identity,
    "Add": _binary("Add", np.add),
    "AddV2": _binary("Add", np.add),
    "BiasAdd": _binary("Add", np.add),
    "Mul": _binary("Mul", np.multiply),
    "Sub": _binary("Sub", np.subtract),
    "Sigmoid": _unary("Sigmoid"),
    "Relu": _unary("Relu"),
    "LeakyRelu": _leaky_relu,
    "Transpose": _transpose,
    "Pad": _pad,
    "PadV2": _pad,
    "Conv2D": _conv2d,
    "MaxPool": _max_pool,
    "ResizeBilinear": _resize_bilinear,
    "ConcatV2": _concat,
    "SplitV": _split_v,
    "Reshape": _reshape,
    "SparseToDense": _sparse_to_dense,
}


def supported_ops() -> frozenset[str]:
    return frozenset(_HANDLERS)


def _assemble(ctx: _Ctx, outputs: list[onnx.ValueInfoProto]) -> onnx.ModelProto:
    graph = helper.make_graph(list(ctx.nodes), "storewatch", list(ctx.inputs), outputs, list(ctx.inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="storewatch")
    model.ir_version = 8
    return model


def convert(graph: TfjsGraph, output_names: list[str], *, dynamic_hw: bool = True) -> onnx.ModelProto:
    """The ONNX model for ``graph`` with the given outputs (in that order).

    With ``dynamic_hw`` the input's height and width (NCHW dims 2 and 3) become symbolic ``height``/``width``.
    """
    unknown = sorted({n.op for n in graph.nodes} - set(_HANDLERS))
    if unknown:
        first = next(n for n in graph.nodes if n.op in unknown)
        raise ModelError(f"unsupported TF.js op(s) {', '.join(unknown)} (first at node {first.name!r})")
    hw = next(iter(graph.input_shapes.values()))[2:4]
    ctx = _Ctx(graph, (int(hw[0]), int(hw[1])))
    for node in graph.nodes:
        _HANDLERS[node.op](ctx, node)
    if ctx.pending:
        raise ModelError(f"-inf padding not followed by MaxPool: {', '.join(ctx.pending)}")
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in output_names]
    model = _assemble(ctx, outputs)
    if dynamic_hw:
        for vi in model.graph.input:
            dims = vi.type.tensor_type.shape.dim
            if len(dims) == 4:
                dims[2].dim_param, dims[3].dim_param = "height", "width"
    model = onnx.shape_inference.infer_shapes(model)
    onnx.checker.check_model(model)
    return model
