/**
 * A small helper to write ONNX graphs by hand with onnx-proto: initializers, nodes with attributes,
 * typed graph inputs/outputs with symbolic dimensions, and serialisation to bytes.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
type Onnx = typeof onnx;

export type ElemType = "float32" | "int64" | "string";
export type Dim = number | string;
export type AttrValue = number | number[] | string | { float: number } | { ints: number[] };

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  string: onnx.TensorProto.DataType.STRING,
};

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("ONNX raw_data needs a little-endian host");

export class GraphBuilder {
  private readonly nodes: InstanceType<Onnx["NodeProto"]>[] = [];
  private readonly initializers: InstanceType<Onnx["TensorProto"]>[] = [];
  private readonly inputs: InstanceType<Onnx["ValueInfoProto"]>[] = [];
  private readonly outputs: InstanceType<Onnx["ValueInfoProto"]>[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  /** A fresh, unique value name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, type: ElemType, shape: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  output(name: string, type: ElemType, shape: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, type, shape));
  }

  /** Adds a float32 initializer (stored as raw little-endian bytes). */
  floats(name: string, dims: readonly number[], data: Float32Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new Error(`initializer ${name}: ${data.length} values for shape [${dims.join(", ")}]`);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [...dims],
        dataType: ELEM.float32,
        rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      }),
    );
    return name;
  }

  /** Adds an int64 initializer. */
  ints(name: string, dims: readonly number[], values: readonly number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [...dims],
        dataType: ELEM.int64,
        rawData: new Uint8Array(data.buffer),
      }),
    );
    return name;
  }

  /** A float32 scalar constant as an initializer. */
  scalar(value: number, prefix = "const"): string {
    return this.floats(this.fresh(prefix), [], new Float32Array([value]));
  }

  /** Adds a node; returns its output names (one fresh name per output unless given). */
  node(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, outputs: number | readonly string[] = 1): string[] {
    const outs = typeof outputs === "number" ? Array.from({ length: outputs }, () => this.fresh(op.toLowerCase())) : [...outputs];
    this.nodes.push(
      onnx.NodeProto.create({
        opType: op,
        name: this.fresh(`${op}_node`),
        input: [...inputs],
        output: outs,
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return outs;
  }

  /** Single-output shorthand of `node`. */
  op(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const [out] = this.node(op, inputs, attrs, output === undefined ? 1 : [output]);
    return out as string;
  }

  /** Serialises the graph as a ModelProto (IR 8, default domain at `opset`). */
  toBytes(opset: number, docString = ""): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: "bentoc",
      producerVersion: "0.1.0",
      docString,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: "", version: opset })],
      graph: onnx.GraphProto.create({
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, type: ElemType, shape: readonly Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: ELEM[type],
        shape: onnx.TensorShapeProto.create({
          dim: shape.map((d) =>
            typeof d === "number" ? onnx.TensorShapeProto.Dimension.create({ dimValue: d }) : onnx.TensorShapeProto.Dimension.create({ dimParam: d }),
          ),
        }),
      }),
    }),
  });
}

function attribute(name: string, value: AttrValue) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === "string") return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value) });
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for non-integers`);
    return onnx.AttributeProto.create({ name, type: T.INT, i: value });
  }
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: value });
  if ("float" in value) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.float });
  return onnx.AttributeProto.create({ name, type: T.INTS, ints: value.ints });
}
