using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Options;

/// <summary>How the options types are bound and validated, and how a wrong setting stops the start.</summary>
internal static class SettingsValidation
{
    /// <summary>
    /// Binds <typeparamref name="T"/> to <paramref name="section"/>, validates it at start (its annotations, nested settings
    /// too) and records the section for <see cref="SettingsCheck"/>; <paramref name="serverSet"/> names its properties the
    /// server sets, which are no settings.
    /// </summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, string section, params string[] serverSet)
        where T : class
    {
        services.AddSingleton(new SettingsSection(section, typeof(T), serverSet));
        services.AddSingleton<IValidateOptions<T>>(new AnnotatedSettingsValidator<T>(section));
        return services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>The sections recorded by <see cref="AddValidatedOptions{T}"/>.</summary>
    public static IEnumerable<SettingsSection> SettingsSections(this IServiceCollection services) =>
        services.Where(s => s.ServiceType == typeof(SettingsSection)).Select(s => (SettingsSection)s.ImplementationInstance!);

    /// <summary>Validates every option validated at start; throws a <see cref="SettingsException"/> with each failure.</summary>
    public static void ValidateSettings(this WebApplication app)
    {
        try
        {
            app.Services.GetRequiredService<IStartupValidator>().Validate();
        }
        catch (OptionsValidationException e)
        {
            throw new SettingsException([.. e.Failures.Distinct()]);
        }
        catch (AggregateException e) when (e.InnerExceptions.All(i => i is OptionsValidationException))
        {
            throw new SettingsException([.. e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(i => i.Failures).Distinct()]);
        }
    }
}

/// <summary>
/// Checks an options type's data annotations, nested settings too, and names a wrong setting in full
/// (<c>Conclave:Teams:MaxTasks must be between 1 and 64</c>), where the framework's own check names only the property.
/// </summary>
internal sealed class AnnotatedSettingsValidator<T>(string section) : IValidateOptions<T>
    where T : class
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var failures = new List<string>();
        Check(section, options, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(string path, object options, List<string> failures)
    {
        foreach (var property in SettingsCheck.SettingProperties(options.GetType()))
        {
            var setting = $"{path}:{property.Name}";
            var value = property.GetValue(options);
            failures.AddRange(property.GetCustomAttributes<ValidationAttribute>().Where(a => !a.IsValid(value)).Select(a => Describe(setting, a, value)));
            if (value is not null && !SettingsCheck.IsValue(property.PropertyType) && SettingsCheck.EntryType(property.PropertyType) is null)
            {
                Check(setting, value, failures);
            }
        }

        if (options is IValidatableObject validatable)
        {
            failures.AddRange(validatable.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage ?? $"{path} is not valid."));
        }
    }

    private static string Describe(string setting, ValidationAttribute attribute, object? value) => attribute switch
    {
        RangeAttribute range => string.Create(CultureInfo.InvariantCulture, $"{setting} must be between {range.Minimum} and {range.Maximum}; it is {value}."),
        RequiredAttribute => $"{setting} must not be empty.",
        _ => attribute.FormatErrorMessage(setting),
    };
}
