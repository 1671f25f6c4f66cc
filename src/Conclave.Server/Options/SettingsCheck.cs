using System.ComponentModel;
using System.Reflection;

namespace Conclave.Server.Options;

/// <summary>
/// Checks what is configured under <c>Conclave:</c> against the options types bound there, before anything reads it:
/// every name must be a setting (a misspelled one would otherwise be ignored, its default silently used, so the nearest
/// known name is suggested), and every value must convert to its setting's type.
/// </summary>
internal static class SettingsCheck
{
    public const string Root = "Conclave";

    /// <summary>Throws a <see cref="SettingsException"/> when a setting under <c>Conclave:</c> is unknown or its value cannot be read.</summary>
    public static void ThrowIfInvalid(IConfiguration configuration, IEnumerable<SettingsSection> sections)
    {
        var problems = Problems(configuration, sections);
        if (problems.Count > 0)
        {
            throw new SettingsException(problems);
        }
    }

    /// <summary>One line per unknown name or unreadable value, each naming its setting.</summary>
    public static IReadOnlyList<string> Problems(IConfiguration configuration, IEnumerable<SettingsSection> sections)
    {
        var tree = Tree(sections);
        var problems = new List<string>();
        Walk(configuration.GetSection(Root), tree, tree, problems);
        return problems;
    }

    /// <summary>Every setting, e.g. <c>Conclave:Teams:MaxTasks</c> (a list's or a dictionary's entries as the list itself).</summary>
    public static IEnumerable<string> Names(IEnumerable<SettingsSection> sections) => Tree(sections).Leaves().Select(n => n.Path);

    private static SettingNode Tree(IEnumerable<SettingsSection> sections)
    {
        var root = new SettingNode(Root);
        foreach (var section in sections)
        {
            var node = section.Path.Split(':').Skip(1).Aggregate(root, (parent, name) => parent.Child(name));
            node.AddProperties(section.Type, section.ServerSet);
        }

        return root;
    }

    private static void Walk(IConfigurationSection section, SettingNode node, SettingNode root, List<string> problems)
    {
        foreach (var child in section.GetChildren())
        {
            var known = node.Entry ?? node.Children.GetValueOrDefault(child.Key);
            if (known is null)
            {
                problems.Add(Unknown(child.Path, root));
                continue;
            }

            if (known.ValueType is { } type)
            {
                if (child.Value is { } value && !Converts(type, value))
                {
                    problems.Add($"{child.Path} is '{value}', which is not {Expected(type)}.");
                }

                // A value has no settings under it: each child is reported as unknown.
                Walk(child, SettingNode.None, root, problems);
            }
            else
            {
                if (!string.IsNullOrEmpty(child.Value))
                {
                    problems.Add(known.Entry is not null
                        ? $"{child.Path} is a list: set its entries as {child.Path}:0, {child.Path}:1 and so on."
                        : $"{child.Path} is a group of settings, not a value: set {child.Path}:{known.Children.Keys.Order(StringComparer.Ordinal).First()} and the like.");
                }

                Walk(child, known, root, problems);
            }
        }
    }

    private static string Unknown(string path, SettingNode root)
    {
        var name = path[(path.LastIndexOf(':') + 1)..];
        var nearest = root.Descendants()
            .Select(n => (n.Path, Distance: EditDistance(name, n.Path[(n.Path.LastIndexOf(':') + 1)..])))
            .Where(c => c.Distance <= Math.Max(1, name.Length / 3))
            .OrderBy(c => c.Distance)
            .ThenBy(c => EditDistance(path, c.Path))
            .Select(c => c.Path)
            .FirstOrDefault();
        return nearest is null ? $"{path} is not a setting." : $"{path} is not a setting; did you mean {nearest}?";
    }

    // Converted as the configuration binder converts, so that a value the binder would fail on fails here first.
    private static bool Converts(Type type, string value)
    {
        try
        {
            TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type.IsEnum => $"one of {string.Join(", ", Enum.GetNames(type))}",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "a whole number",
            _ when type == typeof(float) || type == typeof(double) || type == typeof(decimal) => "a number",
            _ when type == typeof(Uri) => "a URL",
            _ => $"a {type.Name}",
        };
    }

    /// <summary>The optimal string alignment distance (a swap of two neighbours counts once), ignoring case.</summary>
    internal static int EditDistance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    /// <summary>
    /// A setting, or a section of them: a value (<see cref="ValueType"/>), named children (an options class), or any
    /// number of entries alike (<see cref="Entry"/>: a list or a dictionary).
    /// </summary>
    private sealed class SettingNode(string path)
    {
        /// <summary>Where no setting is.</summary>
        public static readonly SettingNode None = new("");

        public string Path { get; } = path;

        public Dictionary<string, SettingNode> Children { get; } = new(StringComparer.OrdinalIgnoreCase);

        public Type? ValueType { get; private set; }

        public SettingNode? Entry { get; private set; }

        public SettingNode Child(string name)
        {
            if (!Children.TryGetValue(name, out var child))
            {
                child = new SettingNode($"{Path}:{name}");
                Children[name] = child;
            }

            return child;
        }

        public void AddProperties(Type type, IReadOnlyList<string> serverSet)
        {
            foreach (var property in SettingProperties(type).Where(p => !serverSet.Contains(p.Name)))
            {
                Child(property.Name).Describe(property.PropertyType);
            }
        }

        public IEnumerable<SettingNode> Descendants() =>
            Children.Values.SelectMany(c => c.Descendants().Prepend(c));

        public IEnumerable<SettingNode> Leaves() => Children.Count == 0 ? [this] : Children.Values.SelectMany(c => c.Leaves());

        private void Describe(Type type)
        {
            if (IsValue(type))
            {
                ValueType = type;
            }
            else if (EntryType(type) is { } entry)
            {
                Entry = new SettingNode($"{Path}:*");
                Entry.Describe(entry);
            }
            else
            {
                AddProperties(type, []);
            }
        }
    }

    /// <summary>The public settable properties the configuration binder fills.</summary>
    internal static IEnumerable<PropertyInfo> SettingProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0);

    /// <summary>Whether the binder reads the type from one string, as it does every type whose converter reads strings.</summary>
    internal static bool IsValue(Type type) => TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string));

    /// <summary>The type of a list's or a dictionary's entries, or null for another type.</summary>
    internal static Type? EntryType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        var generic = type.GetInterfaces().Append(type)
            .Where(i => i.IsGenericType)
            .Select(i => (Definition: i.GetGenericTypeDefinition(), Arguments: i.GetGenericArguments()))
            .ToList();
        return generic.FirstOrDefault(i => i.Definition == typeof(IDictionary<,>) || i.Definition == typeof(IReadOnlyDictionary<,>)).Arguments?[1]
            ?? generic.FirstOrDefault(i => i.Definition == typeof(IEnumerable<>)).Arguments?[0];
    }
}
