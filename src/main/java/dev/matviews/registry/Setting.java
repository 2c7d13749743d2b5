package dev.matviews.registry;

/**
 * One optional field of a partial update: absent (leave it alone), or present with a value,
 * where a null value means "back to the service default".
 */
public record Setting<T>(boolean present, T value) {

    private static final Setting<?> ABSENT = new Setting<>(false, null);

    @SuppressWarnings("unchecked")
    public static <T> Setting<T> absent() {
        return (Setting<T>) ABSENT;
    }

    public static <T> Setting<T> of(T value) {
        return new Setting<>(true, value);
    }
}
