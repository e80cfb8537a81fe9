using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.ML.Perturbed.Estimators.ModelPersistence;
using Mono.Cecil;
using Xunit.Abstractions;

namespace Microsoft.ML.Perturbed.Estimators.Tests;

/// <summary>
/// Every ML.NET member our assembly reaches (most of them internal, docs/architecture.md, "ML.NET internals") exists in
/// the ML.NET this process runs: the IL's type and member references (compiled against publicized copies, so a moved or
/// re-typed internal shows up only at run time), the <c>[UnsafeAccessor]</c> targets, and the members found by name.
/// <c>.ci/run</c> runs this with ML.NET 5 and with ML.NET 6.
/// </summary>
public class MlNetInternalsTests(ITestOutputHelper output)
{
    private static bool IsMlNet(TypeReference type)
    {
        TypeReference element = type.GetElementType();
        while (element.DeclaringType is not null) element = element.DeclaringType;
        return element.Scope is AssemblyNameReference scope && scope.Name.StartsWith("Microsoft.ML", StringComparison.Ordinal)
            && !scope.Name.StartsWith("Microsoft.ML.Perturbed", StringComparison.Ordinal);
    }

    private static ModuleDefinition ReadOurAssembly()
    {
        var resolver = new DefaultAssemblyResolver();
        // The test's output folder holds the ML.NET assemblies of the version under test (the real ones, not the publicized copies).
        resolver.AddSearchDirectory(AppContext.BaseDirectory);
        return ModuleDefinition.ReadModule(typeof(PerturbedCatalog).Assembly.Location, new ReaderParameters { AssemblyResolver = resolver });
    }

    /// <summary>The ML.NET references among <paramref name="references"/> that do not resolve, as text.</summary>
    private static List<string> Unresolved(IEnumerable<MemberReference> references, out int checkedCount) =>
        Unresolved(references, out checkedCount, out _);

    /// <summary>As above, also listing the references that resolve to a member ML.NET does not make public.</summary>
    private static List<string> Unresolved(IEnumerable<MemberReference> references, out int checkedCount, out List<string> internals)
    {
        var missing = new List<string>();
        internals = [];
        checkedCount = 0;
        static bool Visible(TypeDefinition type) => type.IsNested ? type.IsNestedPublic && Visible(type.DeclaringType) : type.IsPublic;
        foreach (MemberReference reference in references)
        {
            IMemberDefinition? definition;
            bool isPublic;
            switch (reference)
            {
                case TypeReference type when IsMlNet(type):
                    TypeDefinition? t = type.GetElementType().Resolve();
                    (definition, isPublic) = (t, t is not null && Visible(t));
                    break;
                case MethodReference method when IsMlNet(method.DeclaringType):
                    MethodDefinition? m = method.Resolve();
                    (definition, isPublic) = (m, m is not null && (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly) && Visible(m.DeclaringType));
                    break;
                case FieldReference field when IsMlNet(field.DeclaringType):
                    FieldDefinition? f = field.Resolve();
                    (definition, isPublic) = (f, f is not null && (f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly) && Visible(f.DeclaringType));
                    break;
                default:
                    continue;
            }
            checkedCount++;
            if (definition is null) missing.Add(reference.FullName);
            else if (!isPublic) internals.Add(reference.FullName);
        }
        return missing;
    }

    [Fact]
    public void Every_ml_net_type_and_member_our_il_references_resolves_in_the_ml_net_under_test()
    {
        using ModuleDefinition module = ReadOurAssembly();
        List<string> missing = Unresolved(module.GetTypeReferences().Cast<MemberReference>().Concat(module.GetMemberReferences()), out int count, out List<string> internals);
        output.WriteLine($"ML.NET {MlNetInternals.MlNetVersion}: {count} references checked, {internals.Count} of them not public:\n{string.Join("\n", internals)}");
        Assert.True(missing.Count == 0, $"Not in ML.NET {MlNetInternals.MlNetVersion}:\n{string.Join("\n", missing)}");
        Assert.True(count > 200, $"only {count} ML.NET references found: the check no longer sees our IL");
        // Many of them are internal (the point of the check), e.g. the [LoadableClass] attribute and the PFI engine.
        Assert.Contains(internals, m => m.Contains("LoadableClassAttribute::.ctor", StringComparison.Ordinal));
        Assert.Contains(internals, m => m.Contains("PermutationFeatureImportance", StringComparison.Ordinal));
    }

    [Fact]
    public void The_check_reports_a_member_that_ml_net_does_not_have()
    {
        using ModuleDefinition module = ReadOurAssembly();
        TypeReference mlNetType = module.GetTypeReferences().First(t => IsMlNet(t) && t.Name == "ModelSaveContext");
        var moved = new MethodReference("SetVersionInfoThatMoved", module.TypeSystem.Void, mlNetType) { HasThis = true };
        var retyped = new FieldReference("Writer", module.TypeSystem.String, mlNetType);
        List<string> missing = Unresolved([moved, retyped, mlNetType], out int count);
        Assert.Equal(3, count);
        Assert.Equal(2, missing.Count);
        Assert.Contains(missing, m => m.Contains("SetVersionInfoThatMoved", StringComparison.Ordinal));
        Assert.Contains(missing, m => m.Contains("System.String", StringComparison.Ordinal) && m.Contains("Writer", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_unsafe_accessor_target_and_every_member_found_by_name_exists()
    {
        const BindingFlags any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
        Type Target(ParameterInfo parameter) => parameter.GetCustomAttribute<UnsafeAccessorTypeAttribute>() is { } named
            ? Type.GetType(named.TypeName, throwOnError: true)! : parameter.ParameterType.IsByRef ? parameter.ParameterType.GetElementType()! : parameter.ParameterType;

        MethodInfo[] accessors = typeof(MlNetInternals).GetMethods(any).Where(m => m.GetCustomAttribute<UnsafeAccessorAttribute>() is not null).ToArray();
        Assert.NotEmpty(accessors);
        foreach (MethodInfo accessor in accessors)
        {
            UnsafeAccessorAttribute attribute = accessor.GetCustomAttribute<UnsafeAccessorAttribute>()!;
            ParameterInfo[] parameters = accessor.GetParameters();
            Type target = Target(parameters[0]);
            Type[] rest = parameters.Skip(1).Select(Target).ToArray();
            MemberInfo? found = attribute.Kind switch
            {
                UnsafeAccessorKind.Method or UnsafeAccessorKind.StaticMethod => target.GetMethod(attribute.Name!, any, rest),
                UnsafeAccessorKind.Field or UnsafeAccessorKind.StaticField => target.GetField(attribute.Name!, any),
                _ => throw new NotSupportedException($"Accessor kind {attribute.Kind} of {accessor.Name} is not checked here."),
            };
            Assert.True(found is not null, $"{accessor.Name}: {target.FullName}.{attribute.Name} is not in ML.NET {MlNetInternals.MlNetVersion}");
        }
        // The members MlNetInternals looks up by name: its own check throws, naming the member, when one is missing.
        MethodInfo resolve = typeof(MlNetInternals).GetMethod("Resolve", any)!;
        Assert.NotNull(resolve.Invoke(null, null));
    }
}
