using HappySad.Training.Data;
using HappySad.Training.Native;
using HappySad.Training.Training;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace HappySad.Web.Data.Configurations;

internal sealed class TrainingRunEntityTypeConfiguration : IEntityTypeConfiguration<TrainingRun>
{
    public void Configure(EntityTypeBuilder<TrainingRun> builder)
    {
        builder.Property(r => r.Status).HasConversion<string>().HasMaxLength(12);
        builder.Property(r => r.Source).HasConversion<string>().HasMaxLength(12);
        builder.Property(r => r.DataName).HasMaxLength(1000);
        builder.Property(r => r.Name).HasMaxLength(TrainingRun.NameMaxLength);
        builder.Property(r => r.Notes).HasMaxLength(TrainingRun.NotesMaxLength);
        // The recipe's columns are Recipe_Epochs, Recipe_Crop, ...: a new option is a new column by
        // convention. Its enums keep the words runs were always stored with (auto, face-and-whole, cosine).
        builder.ComplexProperty(r => r.Recipe, recipe =>
        {
            recipe.Property(r => r.Architecture).HasMaxLength(40);
            recipe.Property(r => r.Preset).HasMaxLength(20);
            recipe.Property(r => r.Crop).HasConversion(new CropNameConverter()).HasMaxLength(20);
            recipe.Property(r => r.Schedule).HasConversion(new LowercaseEnumValueConverter<LearningRateSchedule>()).HasMaxLength(20);
            recipe.Property(r => r.Device).HasConversion(new LowercaseEnumValueConverter<DevicePreference>()).HasMaxLength(10);
        });
        builder.Property(r => r.Device).HasMaxLength(10);
        builder.Property(r => r.SnapshotHash).HasMaxLength(64);
        builder.Property(r => r.CreatedBy).HasMaxLength(256);
        builder.Property(r => r.ModelPath).HasMaxLength(300);
        builder.Property(r => r.ModelSha256).HasMaxLength(64);
        builder.Ignore(r => r.IsActive);
        builder.Ignore(r => r.Duration);
        builder.Ignore(r => r.Title);
        // A run outlives its data set: it keeps the name it was given and its snapshot.
        builder.HasOne<DataSet>().WithMany().HasForeignKey(r => r.DataSetId).OnDelete(DeleteBehavior.SetNull);
        builder.HasMany(r => r.History).WithOne().HasForeignKey(e => e.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(r => r.Images).WithOne().HasForeignKey(i => i.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(r => r.Attempts).WithOne().HasForeignKey(a => a.RunId).OnDelete(DeleteBehavior.Cascade);
        // The start-up recovery and the worker look runs up by status.
        builder.HasIndex(r => r.Status);
    }
}

internal sealed class RunEpochEntityTypeConfiguration : IEntityTypeConfiguration<RunEpoch>
{
    public void Configure(EntityTypeBuilder<RunEpoch> builder) => builder.HasKey(e => new { e.RunId, e.Epoch });
}

internal sealed class RunAttemptEntityTypeConfiguration : IEntityTypeConfiguration<RunAttempt>
{
    public void Configure(EntityTypeBuilder<RunAttempt> builder)
    {
        builder.HasKey(a => new { a.RunId, a.Number });
        builder.Property(a => a.Worker).HasMaxLength(200);
        builder.Property(a => a.Outcome).HasMaxLength(200);
    }
}

internal sealed class RunImageEntityTypeConfiguration : IEntityTypeConfiguration<RunImage>
{
    public void Configure(EntityTypeBuilder<RunImage> builder)
    {
        builder.Property(i => i.Path).HasMaxLength(1000);
        builder.Property(i => i.Name).HasMaxLength(255);
        builder.Property(i => i.Sha256).HasMaxLength(64);
        builder.Property(i => i.Split).HasConversion<string>().HasMaxLength(10);
        builder.Ignore(i => i.IsMistake);
        builder.HasIndex(i => new { i.RunId, i.Split });
    }
}

/// <summary>An enum stored as its lower-case name (<c>auto</c>, <c>cosine</c>), read back whatever its case.</summary>
internal sealed class LowercaseEnumValueConverter<TEnum>() : ValueConverter<TEnum, string>(
    value => value.ToString().ToLowerInvariant(),
    text => Enum.Parse<TEnum>(text, true))
    where TEnum : struct, Enum;

/// <summary>A crop stored as the command line spells it (<c>face-and-whole</c>).</summary>
internal sealed class CropNameConverter() : ValueConverter<CropMode, string>(
    value => CropNames.Of(value),
    text => CropNames.Parse(text)!.Value);
