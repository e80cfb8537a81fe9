// Usage: ModelLoadProbe <model.zip> <columnName> <rows> <n> v11 v12 … — loads the model in a fresh process and MLContext,
// transforms the given rows (one float vector column "Features") and prints the named output column, one row per line.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var mlContext = new MLContext(seed: 1);
// No registration: ML.NET finds our loaders through the [LoadableClass] attributes of the assembly the model names.
ITransformer model = mlContext.Model.Load(args[0], out DataViewSchema _);
int rows = int.Parse(args[2]), n = int.Parse(args[3]);
float[] values = args.Skip(4).Select(float.Parse).ToArray();
var definition = SchemaDefinition.Create(typeof(ProbeRow));
definition["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, n);
IDataView data = mlContext.Data.LoadFromEnumerable(
    Enumerable.Range(0, rows).Select(r => new ProbeRow { Features = values.Skip(r * n).Take(n).ToArray() }), definition);
IDataView output = model.Transform(data);
foreach (float[] row in output.GetColumn<float[]>(args[1]))
{
    Console.WriteLine(string.Join(" ", row.Select(v => v.ToString("R"))));
}
Console.WriteLine($"transformer: {model.GetType().Name}");

internal sealed class ProbeRow
{
    public float[] Features { get; set; } = [];
}
